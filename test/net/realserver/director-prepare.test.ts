// `lvskeep director prepare` inside a namespace: --dry-run changes nothing, the run sets ip_forward and
// send_redirects on all/default/each configured interface, a second run changes nothing, and a config that
// names a missing interface fails naming it before any write.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { describeResult, lvskeep, readSysctl, readSysctls, scratchStateDir } from './helpers.js';

const KEYS = [
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/send_redirects',
  'net/ipv4/conf/default/send_redirects',
  'net/ipv4/conf/eth0/send_redirects',
  'net/ipv4/conf/eth1/send_redirects',
];

function natConfig(trackInterface = 'eth0'): string {
  return `director:
  sysctls: auto
vrrp:
  instances:
    - name: public
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      track: { interfaces: [{ name: ${trackInterface} }] }
    - name: gateway
      interface: eth1
      virtual_router_id: 52
      virtual_ips: [198.51.100.1/24]
virtual_servers:
  - name: web
    address: 203.0.113.10:80
    protocol: tcp
    forwarding: nat
    real_servers: [{ address: 198.51.100.11:80 }]
`;
}

requireRoot('net/realserver director prepare')('lvskeep director prepare in a namespace', () => {
  let topo: Topology;
  let dir: string;
  beforeEach(async () => {
    topo = new Topology();
    await topo.namespace('d');
    await topo.namespace('peer');
    await topo.link({ ns: 'd', ifname: 'eth0', addresses: ['203.0.113.2/24'] }, { ns: 'peer', ifname: 'eth0' });
    await topo.link({ ns: 'd', ifname: 'eth1', addresses: ['198.51.100.2/24'] }, { ns: 'peer', ifname: 'eth1' });
    dir = scratchStateDir('director');
  });
  afterEach(async () => {
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run, then the real run, then a no-op run; interfaces made later inherit send_redirects=0', async () => {
    const file = join(dir, 'nat.yaml');
    writeFileSync(file, natConfig());
    const before = await readSysctls(topo, 'd', KEYS);
    expect(before).toEqual(Object.fromEntries(KEYS.map((k) => [k, k.endsWith('ip_forward') ? '0' : '1'])));

    const dry = await lvskeep(topo, 'd', ['director', 'prepare', '-c', file, '--dry-run']);
    expect(dry.code, describeResult(dry)).toBe(0);
    expect(dry.stdout).toMatch(/^would set net\.ipv4\.ip_forward 0 -> 1 /m);
    expect(dry.stdout).toMatch(/^would set net\.ipv4\.conf\.eth1\.send_redirects 1 -> 0 /m);
    expect(await readSysctls(topo, 'd', KEYS)).toEqual(before);

    const run = await lvskeep(topo, 'd', ['director', 'prepare', '-c', file]);
    expect(run.code, describeResult(run)).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('set '))).toHaveLength(5);
    expect(await readSysctls(topo, 'd', KEYS)).toEqual(Object.fromEntries(KEYS.map((k) => [k, k.endsWith('ip_forward') ? '1' : '0'])));

    const again = await lvskeep(topo, 'd', ['director', 'prepare', '-c', file]);
    expect(again.code, describeResult(again)).toBe(0);
    expect(again.stdout).toMatch(/nothing to change: director sysctls already in place/);

    await topo.link({ ns: 'd', ifname: 'eth2' }, { ns: 'peer', ifname: 'eth2' });
    expect(await readSysctl(topo, 'd', 'net/ipv4/conf/eth2/send_redirects')).toBe('0');
  });

  it('a configured interface missing on this host: exit 1 naming it, nothing written', async () => {
    const file = join(dir, 'nat-eth7.yaml');
    writeFileSync(file, natConfig('eth7'));
    const before = await readSysctls(topo, 'd', KEYS);
    const r = await lvskeep(topo, 'd', ['director', 'prepare', '-c', file]);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stderr).toMatch(/unknown device eth7: \/proc\/sys\/net\/ipv4\/conf\/eth7\/send_redirects does not exist/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(await readSysctls(topo, 'd', KEYS)).toEqual(before);
  });
});
