// Proves the namespace helper against the real kernel: two namespaces on a bridge (in the switch
// namespace) carry a real TCP connection, a direct veth link routes, and destroy() leaves nothing behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listNamespaces, Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';

const SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');
const CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');

requireRoot('net/harness/topology')('topology helper on a real kernel', () => {
  let topo: Topology;
  let server: NsProcess;

  beforeAll(async () => {
    topo = new Topology();
    await topo.namespace('alpha');
    await topo.namespace('beta');
    await topo.bridge('lan');
    await topo.plug({ ns: 'alpha', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, 'lan');
    await topo.plug({ ns: 'beta', ifname: 'eth0', addresses: ['192.0.2.2/24'] }, 'lan');
    server = topo.spawn('alpha', [process.execPath, SERVER, '192.0.2.1', '8080', 'alpha-server'], { label: 'alpha http' });
    await server.waitForOutput(/listening 192\.0\.2\.1:8080/, 30_000);
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('carries a TCP connection across the bridge to the server namespace', async () => {
    const r = await topo.exec('beta', [process.execPath, CLIENT, 'http://192.0.2.1:8080/', '2', '5000'], { timeoutMs: 30_000 });
    const results = JSON.parse(r.stdout) as { ok: boolean; body?: string }[];
    expect(results).toEqual([
      { ok: true, status: 200, body: 'alpha-server' },
      { ok: true, status: 200, body: 'alpha-server' },
    ]);
  });

  it('keeps the namespaces isolated: the address is unreachable from a namespace not on the bridge', async () => {
    await topo.namespace('gamma');
    const r = await topo.exec('gamma', [process.execPath, CLIENT, 'http://192.0.2.1:8080/', '1', '2000'], { check: false, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/"ok":false/);
  });

  it('routes over a direct veth link with a sysctl set inside the router namespace only', async () => {
    await topo.namespace('router');
    await topo.link({ ns: 'beta', ifname: 'up0', addresses: ['198.51.100.2/24'] }, { ns: 'router', ifname: 'down0', addresses: ['198.51.100.1/24'] });
    await topo.link({ ns: 'router', ifname: 'out0', addresses: ['203.0.113.1/24'] }, { ns: 'gamma', ifname: 'eth0', addresses: ['203.0.113.2/24'] });
    await topo.sysctl('router', 'net.ipv4.ip_forward', '1');
    await topo.route('gamma', ['198.51.100.0/24', 'via', '203.0.113.1']);
    await topo.route('beta', ['203.0.113.0/24', 'via', '198.51.100.1']);
    const fwd = await topo.exec('router', ['cat', '/proc/sys/net/ipv4/ip_forward']);
    expect(fwd.stdout.trim()).toBe('1');
    const beta = topo.spawn('beta', [process.execPath, SERVER, '198.51.100.2', '8081', 'beta-server'], { label: 'beta http' });
    await beta.waitForOutput(/listening 198\.51\.100\.2:8081/, 30_000);
    const r = await topo.exec('gamma', [process.execPath, CLIENT, 'http://198.51.100.2:8081/', '1', '5000'], { timeoutMs: 30_000 });
    expect(JSON.parse(r.stdout)).toEqual([{ ok: true, status: 200, body: 'beta-server' }]);
  });

  it('destroy() stops the processes and removes every namespace it made', async () => {
    const names = topo.namespaceNames();
    expect(names.length).toBe(5);
    const before = await listNamespaces();
    for (const n of names) expect(before).toContain(n);
    const pid = server.pid;
    expect(pid).toBeTypeOf('number');

    await topo.destroy();

    expect(server.running()).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    const after = await listNamespaces();
    expect(after.filter((n) => n.startsWith(`${topo.prefix}-`))).toEqual([]);
    expect(topo.namespaceNames()).toEqual([]);
  });
});
