// `lvskeep realserver up --mode tun`: tunl0 up with the VIP, rp_filter off, and a real IPIP-tunnelled
// connection from a client through a director to the real server. Needs the kernel's ipip driver.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { addresses, describeResult, ipipDecision, lvskeep, readSysctls, scratchStateDir, writeSysctls, type IpipDecision } from './helpers.js';

const VIP = '192.0.2.100';
const TUN_SYSCTLS = [
  'net/ipv4/conf/all/arp_ignore',
  'net/ipv4/conf/all/arp_announce',
  'net/ipv4/conf/tunl0/arp_ignore',
  'net/ipv4/conf/tunl0/arp_announce',
  'net/ipv4/conf/all/rp_filter',
  'net/ipv4/conf/tunl0/rp_filter',
];

function kernelConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Try an ipip link in a throwaway namespace of our own (`unshare --net`), never in the host's. */
function probeIpip(): IpipDecision {
  try {
    // With endpoints: a second any-to-any ipip device would clash (EEXIST) with the fallback tunl0.
    execFileSync('unshare', ['--net', 'ip', 'link', 'add', 'name', 'lkprobe0', 'type', 'ipip', 'local', '192.0.2.1', 'remote', '192.0.2.2'], { timeout: 10_000, stdio: 'pipe' });
    return ipipDecision(true, '', undefined, false);
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    return ipipDecision(false, stderr, kernelConfig(), process.env.CI === 'true');
  }
}

requireRoot('net/realserver tun', ['ip', 'unshare'])('lvskeep realserver --mode tun', () => {
  let topo: Topology;
  let stateDir: string;
  let decision: IpipDecision = { run: false, reason: 'not probed', fail: false };

  beforeAll(async () => {
    decision = probeIpip();
    if (!decision.run) {
      process.stderr.write(`\n!!! ${decision.fail ? 'FAILING' : 'SKIPPING'} net/realserver tun: ${decision.reason}\n\n`);
      return;
    }
    topo = new Topology();
    stateDir = scratchStateDir('tun');
    for (const ns of ['client', 'director', 'rs']) await topo.namespace(ns);
    await topo.bridge('lan');
    await topo.plug({ ns: 'client', ifname: 'eth0', addresses: ['198.51.100.10/24'] }, 'lan');
    await topo.plug({ ns: 'director', ifname: 'eth0', addresses: ['198.51.100.1/24'] }, 'lan');
    await topo.plug({ ns: 'rs', ifname: 'eth0', addresses: ['198.51.100.3/24'] }, 'lan');
    await topo.sysctl('director', 'net.ipv4.ip_forward', '1');
    // The director's side of LVS-TUN: packets for the VIP go IPIP-encapsulated to the real server.
    await topo.exec('director', ['ip', 'link', 'add', 'name', 'tun-rs', 'type', 'ipip', 'local', '198.51.100.1', 'remote', '198.51.100.3']);
    await topo.exec('director', ['ip', 'link', 'set', 'tun-rs', 'up']);
    await topo.route('director', [`${VIP}/32`, 'dev', 'tun-rs']);
    await topo.route('client', [`${VIP}/32`, 'via', '198.51.100.1']);
  });
  afterAll(async () => {
    await topo?.destroy();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('brings tunl0 up with the VIP, turns rp_filter off, carries tunnelled traffic, and down restores it all', async (ctx) => {
    if (!decision.run) {
      if (decision.fail) throw new Error(`CI=true: refusing to skip the TUN test: ${decision.reason}`);
      ctx.skip();
      return;
    }
    const rs = (action: string) => lvskeep(topo, 'rs', ['realserver', action, '--vip', VIP, '--mode', 'tun', '--state-dir', stateDir]);
    // The loaded ipip module gives every namespace a tunl0, down; strict reverse-path filtering as many distros set it.
    const unusual = Object.fromEntries(TUN_SYSCTLS.map((k) => [k, k.endsWith('rp_filter') ? '1' : k.endsWith('arp_ignore') ? '2' : '1']));
    await writeSysctls(topo, 'rs', unusual);

    const server = topo.spawn('rs', [process.execPath, 'test/fixtures/http-name-server.mjs', '0.0.0.0', '8080', 'tun-real-server', '200'], { label: 'rs http' });
    await server.waitForOutput(/listening/, 60_000);
    const fetchVip = () => topo.exec('client', [process.execPath, 'test/fixtures/http-get.mjs', `http://${VIP}:8080/`, '2', '3000'], { check: false, timeoutMs: 60_000 });

    // Control: VIP on tunl0 by hand but rp_filter still strict -> the decapsulated packets are dropped.
    await topo.exec('rs', ['ip', 'link', 'set', 'tunl0', 'up']);
    await topo.exec('rs', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'tunl0']);
    const dropped = await fetchVip();
    expect(dropped.code, `with rp_filter=1 the tunnelled request should fail:\n${describeResult(dropped)}`).not.toBe(0);
    await topo.exec('rs', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'tunl0']);
    await topo.exec('rs', ['ip', 'link', 'set', 'tunl0', 'down']);

    const up = await rs('up');
    expect(up.code, describeResult(up)).toBe(0);
    expect(up.stdout).toContain('set tunl0 up');
    expect(up.stdout).toContain(`added ${VIP}/32 on tunl0 (label tunl0:0)`);
    expect(await addresses(topo, 'rs', 'tunl0')).toEqual([`${VIP}/32 tunl0:0`]);
    expect(await readSysctls(topo, 'rs', TUN_SYSCTLS)).toEqual({
      'net/ipv4/conf/all/arp_ignore': '1',
      'net/ipv4/conf/all/arp_announce': '2',
      'net/ipv4/conf/tunl0/arp_ignore': '1',
      'net/ipv4/conf/tunl0/arp_announce': '2',
      'net/ipv4/conf/all/rp_filter': '0',
      'net/ipv4/conf/tunl0/rp_filter': '0',
    });
    expect((await rs('status')).code).toBe(0);
    expect((await rs('up')).stdout).toMatch(/nothing to change/);

    const get = await fetchVip();
    expect(get.code, describeResult(get)).toBe(0);
    expect(get.stdout).toContain('tun-real-server');
    await server.stop();

    const down = await rs('down');
    expect(down.code, describeResult(down)).toBe(0);
    expect(down.stdout).toContain('set tunl0 down');
    expect(await readSysctls(topo, 'rs', TUN_SYSCTLS)).toEqual(unusual);
    expect(await addresses(topo, 'rs', 'tunl0')).toEqual([]);
    expect((await rs('status')).code).toBe(3);
  }, 300_000); // node + tsx start takes seconds per command inside the UML guest, where this test can run
});
