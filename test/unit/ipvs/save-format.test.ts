import { describe, expect, it } from 'vitest';
import type { IpvsOp } from '../../../src/ipvs/backend.js';
import type { DesiredService, ServiceState } from '../../../src/ipvs/model.js';
import { formatOp, formatState, opArgs, parseSave, parseSaveState, SaveFormatError } from '../../../src/ipvs/save-format.js';
import { fixture } from './fixtures.js';

const web = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 } as const;
const dns6 = { kind: 'addr', family: 6, protocol: 'udp', address: '2001:db8::53', port: 53 } as const;
const mark7 = { kind: 'fwmark', family: 4, fwmark: 7 } as const;
const mark8v6 = { kind: 'fwmark', family: 6, fwmark: 8 } as const;
const rs = (address: string, port = 80) => ({ family: 4 as const, address, port, forwarding: 'masq' as const, weight: 1, upperThreshold: 0, lowerThreshold: 0 });

describe('printing ops in ipvsadm save syntax', () => {
  const cases: [IpvsOp, string][] = [
    [{ op: 'add-service', service: { key: web, scheduler: 'wlc', schedulerFlags: [], onePacket: false } }, '-A -t 203.0.113.1:80 -s wlc'],
    [{ op: 'add-dest', service: web, dest: rs('198.51.100.11') }, '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 1'],
    [{ op: 'edit-dest', service: web, dest: { ...rs('198.51.100.11'), forwarding: 'route', weight: 5 } }, '-e -t 203.0.113.1:80 -r 198.51.100.11:80 -g -w 5'],
    [{ op: 'edit-service', service: { key: web, scheduler: 'rr', schedulerFlags: [], onePacket: false } }, '-E -t 203.0.113.1:80 -s rr'],
    [{ op: 'del-dest', service: web, dest: { family: 4, address: '198.51.100.11', port: 80 } }, '-d -t 203.0.113.1:80 -r 198.51.100.11:80'],
    [{ op: 'del-service', key: web }, '-D -t 203.0.113.1:80'],
    [{ op: 'add-service', service: { key: mark7, scheduler: 'rr', schedulerFlags: [], onePacket: false, persistence: { timeout: 300, netmaskPrefix: 24 } } }, '-A -f 7 -s rr -p 300 -M 255.255.255.0'],
    [{ op: 'add-service', service: { key: mark8v6, scheduler: 'lc', schedulerFlags: [], onePacket: false, persistence: { timeout: 60, netmaskPrefix: 64 } } }, '-A -f 8 -6 -s lc -p 60 -M 64'],
    [{ op: 'add-service', service: { key: dns6, scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'], onePacket: true } }, '-A -u [2001:db8::53]:53 -s sh -o -b sh-fallback,sh-port'],
    [{ op: 'add-service', service: { key: { ...web, protocol: 'sctp' }, scheduler: 'mh', schedulerFlags: ['mh-port'], onePacket: false } }, '-A --sctp-service 203.0.113.1:80 -s mh -b mh-port'],
    [{ op: 'add-dest', service: web, dest: { ...rs('198.51.100.12'), upperThreshold: 100, lowerThreshold: 10, weight: 3 } }, '-a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 3 -x 100 -y 10'],
    [{ op: 'add-dest', service: web, dest: { ...rs('198.51.100.13'), forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080 } }, '-a -t 203.0.113.1:80 -r 198.51.100.13:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum'],
    [{ op: 'add-dest', service: web, dest: { ...rs('198.51.100.14'), forwarding: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'csum' } }, '-a -t 203.0.113.1:80 -r 198.51.100.14:80 -i -w 1 --tun-type gre --tun-csum'],
    [{ op: 'add-dest', service: web, dest: { ...rs('198.51.100.15'), forwarding: 'tunnel' } }, '-a -t 203.0.113.1:80 -r 198.51.100.15:80 -i -w 1 --tun-type ipip'],
    [{ op: 'add-dest', service: mark8v6, dest: { family: 6, address: '2001:db8::1', port: 0, forwarding: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 } }, '-a -f 8 -6 -r [2001:db8::1]:0 -g -w 1'],
  ];
  it.each(cases)('%j prints as the expected line', (op, line) => {
    expect(formatOp(op)).toBe(line);
    expect(opArgs(op)).toEqual(line.split(' '));
  });

  it.each(cases)('%j parses back to the same op', (op, line) => {
    const parsed = parseSave(line);
    expect(parsed.errors).toEqual([]);
    const expected = structuredClone(op) as IpvsOp;
    // The parser fills in kernel defaults the printer leaves implicit and keeps flags sorted.
    if ((expected.op === 'add-dest' || expected.op === 'edit-dest') && expected.dest.forwarding === 'tunnel') {
      expected.dest.tunnelType ??= 'ipip';
      if (expected.dest.tunnelType !== 'ipip') expected.dest.tunnelChecksum ??= 'nocsum';
    }
    if (expected.op === 'add-service' || expected.op === 'edit-service') expected.service.schedulerFlags.sort();
    expect(parsed.commands).toEqual([expected]);
  });
});

describe('real ipvsadm -Sn output', () => {
  it('parses the mixed table and prints it back byte for byte', () => {
    const text = fixture('mixed.Sn.txt');
    const state = parseSaveState(text);
    expect(state).toHaveLength(16);
    expect(formatState(state)).toBe(text);
  });

  it('reads every field of the mixed table', () => {
    const state = parseSaveState(fixture('mixed.Sn.txt'));
    const byId = (pred: (s: ServiceState) => boolean) => state.find(pred);
    const udp = byId((s) => s.key.kind === 'addr' && s.key.protocol === 'udp');
    expect(udp).toMatchObject({ scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'], onePacket: true, persistence: { timeout: 300, netmaskPrefix: 24 } });
    expect(udp?.dests.map((d) => [d.address, d.tunnelType, d.tunnelPort, d.tunnelChecksum])).toEqual([
      ['198.51.100.21', 'ipip', undefined, undefined],
      ['198.51.100.22', 'gue', 6080, 'nocsum'],
      ['198.51.100.23', 'gre', undefined, 'nocsum'],
      ['198.51.100.24', 'gue', 6081, 'csum'],
      ['198.51.100.25', 'gue', 6082, 'remcsum'],
    ]);
    const v6 = byId((s) => s.key.kind === 'addr' && s.key.family === 6);
    expect(v6).toMatchObject({ key: { address: '2001:db8::80', port: 443 }, scheduler: 'fo', persistence: { timeout: 60, netmaskPrefix: 64 } });
    const fw7 = byId((s) => s.key.kind === 'fwmark' && s.key.fwmark === 7);
    expect(fw7?.persistence).toEqual({ timeout: 360, netmaskPrefix: 32 });
    expect(fw7?.dests.map((d) => [d.address, d.port, d.forwarding, d.weight])).toEqual([
      ['198.51.100.41', 0, 'route', 1],
      ['198.51.100.42', 0, 'route', 5],
    ]);
    const fw8 = byId((s) => s.key.kind === 'fwmark' && s.key.fwmark === 8);
    expect(fw8?.key).toEqual({ kind: 'fwmark', family: 6, fwmark: 8 });
    expect(state.map((s) => s.scheduler).sort()).toEqual(['dh', 'fo', 'lblc', 'lblcr', 'lc', 'mh', 'mh', 'nq', 'ovf', 'rr', 'rr', 'sed', 'sh', 'sh', 'wlc', 'wrr']);
  });

  it('keeps a non-contiguous mask as ipvsadm printed it (seen in the lab: -p 100 -M 255.0.255.0)', () => {
    const line = '-A -t 203.0.113.3:80 -s rr -p 100 -M 255.0.255.0\n';
    const [svc] = parseSaveState(line);
    expect(svc?.persistence).toEqual({ timeout: 100, netmaskPrefix: -1, rawNetmask: '255.0.255.0' });
    expect(formatState(parseSaveState(line))).toBe(line);
  });

  it('parses the traffic table', () => {
    const state = parseSaveState(fixture('traffic.Sn.txt'));
    expect(formatState(state)).toBe(fixture('traffic.Sn.txt'));
  });
});

describe('round trip of a desired table', () => {
  it('printing then parsing gives back the same table, thresholds included', () => {
    const desired: DesiredService[] = [
      {
        key: web,
        scheduler: 'wrr',
        schedulerFlags: [],
        onePacket: false,
        persistence: { timeout: 600, netmaskPrefix: 16 },
        dests: [{ ...rs('198.51.100.11'), weight: 10, upperThreshold: 500, lowerThreshold: 400 }, { ...rs('198.51.100.12', 8080) }],
      },
      { key: mark8v6, scheduler: 'mh', schedulerFlags: ['mh-fallback', 'mh-port'], onePacket: false, dests: [] },
    ];
    const state = parseSaveState(formatState(desired));
    expect(state.map(({ dests, ...s }) => ({ ...s, dests: dests.map(({ activeConns: _a, inactiveConns: _i, persistConns: _p, ...d }) => d) }))).toEqual(desired);
  });
});

describe('parsing ipvsadm syntax the way ipvsadm reads it', () => {
  it('applies ipvsadm defaults: wlc, -p 360, weight 1, gatewaying, the service port', () => {
    const { commands, errors } = parseSave('-A -t 203.0.113.1:80\n-A -f 7 -p\n-a -t 203.0.113.1:80 -r 198.51.100.11\n-a -f 7 -r 198.51.100.12');
    expect(errors).toEqual([]);
    expect(commands).toEqual([
      { op: 'add-service', service: { key: web, scheduler: 'wlc', schedulerFlags: [], onePacket: false } },
      { op: 'add-service', service: { key: mark7, scheduler: 'wlc', schedulerFlags: [], onePacket: false, persistence: { timeout: 360, netmaskPrefix: 32 } } },
      { op: 'add-dest', service: web, dest: { ...rs('198.51.100.11'), forwarding: 'route' } },
      { op: 'add-dest', service: mark7, dest: { ...rs('198.51.100.12', 0), forwarding: 'route' } },
    ]);
  });

  it('replaces the port of a non-masquerading real server with the service port, as ipvsadm does', () => {
    const { commands } = parseSave('-a -t 203.0.113.1:80 -r 198.51.100.14:8080 -g\n-a -t 203.0.113.1:80 -r 198.51.100.16:8080 -m');
    expect(commands.map((c) => (c.op === 'add-dest' ? c.dest.port : -1))).toEqual([80, 8080]);
  });

  it('accepts long options and canonicalises addresses', () => {
    const { commands, errors } = parseSave('--add-service --udp-service [2001:DB8:0:0::53]:53 --scheduler rr --persistent 30 --netmask 64');
    expect(errors).toEqual([]);
    expect(commands[0]).toMatchObject({ op: 'add-service', service: { key: dns6, scheduler: 'rr', persistence: { timeout: 30, netmaskPrefix: 64 } } });
  });

  it('understands -C, blank lines and comments', () => {
    expect(parseSave('# saved\n\n-C\n')).toEqual({ commands: [{ op: 'flush' }], lineNumbers: [3], errors: [] });
  });

  it('reports each bad line as `line N: why` and keeps parsing the others', () => {
    const text = [
      '-A -t 203.0.113.1:80 -s wlc', // 1 ok
      '-A -t 203.0.113.1 -s wlc', // 2 no port
      '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 70000', // 3 weight range
      '-A -t 203.0.113.2:80 -s sh -b mh-port', // 4 flag/scheduler mismatch
      '-A -t 203.0.113.3:80 -p 100 -M 255.0.255.300', // 5 not a mask
      '-a -t 203.0.113.1:80 -r 198.51.100.18:80 -i --tun-type gue', // 6 gue without port
      '-a -t 203.0.113.1:80 -r [2001:db8::1]:80 -m', // 7 family mismatch without tunnel
      'garbage line', // 8
      '-A -t 203.0.113.4:80 -6 -s rr', // 9 -6 with -t
      '-a -t 203.0.113.1:80 -r 198.51.100.19:80 -m -w', // 10 missing value
      '-A -t 203.0.113.1:80 -s wlc -s rr', // 11 twice
      '-d -t 203.0.113.1:80 -r 198.51.100.11:80', // 12 ok
      '-A -t 203.0.113.5:80 -M 255.255.255.0', // 13 -M without -p
      '-A -t 203.0.113.6:80 -s rr -o', // 14 one-packet on tcp
    ].join('\n');
    const { commands, errors } = parseSave(text);
    expect(commands.map((c) => c.op)).toEqual(['add-service', 'del-dest']);
    expect(errors).toHaveLength(12);
    expect(errors[11]).toMatch(/^line 14: one-packet scheduling \(-o\) is only for UDP/);
    expect(errors[0]).toBe("line 2: service address '203.0.113.1' has no port");
    expect(errors[1]).toBe('line 3: weight 70000 is out of range 0..65535');
    expect(errors[2]).toMatch(/^line 4: scheduler flag 'mh-port' does not apply to scheduler sh/);
    expect(errors[3]).toMatch(/^line 5: netmask '255.0.255.300' is not an IPv4 netmask/);
    expect(errors[4]).toMatch(/^line 6: tunnel type gue needs --tun-port/);
    expect(errors[5]).toMatch(/^line 7: a real server of another address family needs tunnel forwarding/);
    expect(errors[6]).toMatch(/^line 8: unknown option 'garbage'/);
    expect(errors[7]).toMatch(/^line 9: -6 is only for a firewall-mark service/);
    expect(errors[8]).toMatch(/^line 10: -w needs a value/);
    expect(errors[9]).toMatch(/^line 11: -s given twice/);
    expect(errors[10]).toMatch(/^line 13: -M needs -p/);
  });

  it('parseSaveState throws a SaveFormatError naming the lines', () => {
    expect(() => parseSaveState('-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m\n-A -t 203.0.113.1:80 -s rr\n-A -t 203.0.113.1:80 -s rr')).toThrowError(
      new SaveFormatError(['line 1: real server before its service', 'line 3: service listed twice']),
    );
    expect(() => parseSaveState('-D -t 203.0.113.1:80')).toThrow(/line 1: del-service does not belong in a saved table/);
  });
});
