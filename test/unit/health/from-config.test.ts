import { describe, expect, it } from 'vitest';
import { checkIdOf, checkSpecOf, checkTargetOf, type ConfigLookups } from '../../../src/health/from-config.js';
import { virtualServers, YAML } from './config-fixture.js';

const lookups: ConfigLookups = {
  readFile: (p) => {
    if (p === '/etc/lvskeep/ca.pem') return 'PEM';
    throw new Error('ENOENT: no such file');
  },
};

describe('health checks from configuration', () => {
  const [web, plain, dns, scripted] = virtualServers(YAML);
  it('maps an https check with every field', () => {
    const rs = web!.real_servers[0]!;
    expect(checkIdOf(web!, rs)).toBe('web -> 198.51.100.11:443');
    expect(checkTargetOf(web!, rs)).toEqual({ address: '198.51.100.11', port: 443, virtualServer: 'web' });
    expect(checkSpecOf(web!, rs, rs.check!, lookups)).toEqual({
      type: 'https',
      intervalMs: 3000,
      timeoutMs: 1000,
      rise: 2,
      fall: 3,
      retries: 2,
      retryDelayMs: 200,
      assume: 'down',
      jitterPercent: 5,
      method: 'GET',
      path: '/health',
      host: 'www.example.test',
      expect: { status: [[200, 200], [300, 399]], bodyRegex: 'ok' },
      headers: { 'x-probe': 'lvskeep' },
      tls: { verify: true, sni: 'api.example.test', ca: 'PEM' },
    });
  });
  it('maps a tcp override with send/expect bytes and a connect endpoint', () => {
    const rs = plain!.real_servers[0]!;
    const spec = checkSpecOf(plain!, rs, rs.check!, lookups);
    expect(spec).toMatchObject({ type: 'tcp', connect: { address: '203.0.113.10', port: 110 }, send: Buffer.from('PING'), expect: Buffer.from('PONG') });
  });
  it('maps dns and script checks, with the user resolved by the config loader', () => {
    const d = dns!.real_servers[0]!;
    expect(checkSpecOf(dns!, d, d.check!, lookups)).toMatchObject({ type: 'dns', name: 'svc.example.test', recordType: 'AAAA', assume: 'up' });
    const s = scripted!.real_servers[0]!;
    expect(checkSpecOf(scripted!, s, s.check!, lookups)).toMatchObject({
      type: 'script',
      command: ['/usr/lib/lvskeep/check-smtp', '--quick'],
      dynamicWeight: true,
      user: { uid: 65534, gid: 65534 },
    });
  });
  it('names the place when a look-up fails', () => {
    const rs = web!.real_servers[0]!;
    const broken: ConfigLookups = { ...lookups, readFile: () => { throw new Error('ENOENT: no such file'); } };
    expect(() => checkSpecOf(web!, rs, rs.check!, broken)).toThrow('virtual server web, real server 198.51.100.11:443, check.tls.ca_file /etc/lvskeep/ca.pem: ENOENT: no such file');
  });
  it('a fwmark service real server without a port needs a connect endpoint (also if the config layer let one by)', () => {
    const [fw] = virtualServers(`
virtual_servers:
  - fwmark: 7
    check: { type: tcp, connect: "203.0.113.10:80" }
    real_servers:
      - address: 198.51.100.51
`);
    const rs = fw!.real_servers[0]!;
    expect(checkSpecOf(fw!, rs, rs.check!, lookups)).toMatchObject({ connect: { address: '203.0.113.10', port: 80 } });
    const { connect: _dropped, ...withoutConnect } = rs.check!;
    expect(() => checkSpecOf(fw!, rs, withoutConnect, lookups)).toThrow(/fwmark:7, real server 198\.51\.100\.51:0, check: the real server has no port/);
  });

  it('reuse_connection maps to reuseConnection; off by default (a fresh connection per probe)', () => {
    const [vs] = virtualServers(`
virtual_servers:
  - address: 203.0.113.10:80
    check: { type: http, reuse_connection: true }
    real_servers:
      - address: 198.51.100.51:80
      - address: 198.51.100.52:80
        check: { reuse_connection: false }
`);
    const [reused, fresh] = vs!.real_servers;
    expect(checkSpecOf(vs!, reused!, reused!.check ?? vs!.check!, lookups)).toMatchObject({ type: 'http', reuseConnection: true });
    expect(checkSpecOf(vs!, fresh!, fresh!.check!, lookups)).not.toHaveProperty('reuseConnection');
    expect(checkSpecOf(web!, web!.real_servers[0]!, web!.real_servers[0]!.check!, lookups)).not.toHaveProperty('reuseConnection');
  });
});

