// `lvskeep realserver up|down|status` against a real kernel, each test in namespaces it creates: the
// sysctls are per network namespace, so everything written here stays inside them.
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { addresses, describeResult, lvskeep, readSysctls, scratchStateDir, writeSysctls } from './helpers.js';

const ARP = ['net/ipv4/conf/all/arp_ignore', 'net/ipv4/conf/all/arp_announce', 'net/ipv4/conf/lo/arp_ignore', 'net/ipv4/conf/lo/arp_announce'];
const VIP = '192.0.2.100';
const VIP2 = '192.0.2.101';

requireRoot('net/realserver', ['ip', 'cat'])('lvskeep realserver (DR) in a namespace', () => {
  let topo: Topology;
  let stateDir: string;
  const rs = (action: string, ...extra: string[]) => lvskeep(topo, 'rs', ['realserver', action, '--vip', VIP, '--vip', VIP2, '--mode', 'dr', '--state-dir', stateDir, ...extra]);

  beforeEach(async () => {
    topo = new Topology();
    await topo.namespace('rs');
    await topo.namespace('peer');
    await topo.link({ ns: 'rs', ifname: 'eth0', addresses: ['198.51.100.3/24'] }, { ns: 'peer', ifname: 'eth0', addresses: ['198.51.100.10/24'] });
    stateDir = scratchStateDir('dr');
  });
  afterEach(async () => {
    await topo?.destroy();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('up puts the VIPs on lo as lo:0/lo:1 /32 and sets the ARP sysctls; status 3 before, 0 after', async () => {
    const before = await rs('status');
    expect(before.code, describeResult(before)).toBe(3);
    expect(before.stdout).toMatch(/MISSING 192\.0\.2\.100\/32 is not on lo/);

    const up = await rs('up');
    expect(up.code, describeResult(up)).toBe(0);
    expect(up.stdout).toContain('added 192.0.2.100/32 on lo (label lo:0)');
    expect(await addresses(topo, 'rs', 'lo')).toEqual(['127.0.0.1/8 lo', '192.0.2.100/32 lo:0', '192.0.2.101/32 lo:1']);
    expect(await readSysctls(topo, 'rs', ARP)).toEqual({
      'net/ipv4/conf/all/arp_ignore': '1',
      'net/ipv4/conf/all/arp_announce': '2',
      'net/ipv4/conf/lo/arp_ignore': '1',
      'net/ipv4/conf/lo/arp_announce': '2',
    });
    // The peer namespace was not touched: sysctls are per namespace.
    expect(await readSysctls(topo, 'peer', ['net/ipv4/conf/all/arp_ignore'])).toEqual({ 'net/ipv4/conf/all/arp_ignore': '0' });

    const after = await rs('status');
    expect(after.code, describeResult(after)).toBe(0);
    expect(after.stdout).toMatch(/real server is fully up/);
  });

  it('up twice: the second run changes nothing and says so (same addresses, same state file)', async () => {
    expect((await rs('up')).code).toBe(0);
    const stateFile = join(stateDir, 'realserver.json');
    const state = readFileSync(stateFile, 'utf8');
    const addrs = await addresses(topo, 'rs', 'lo');
    const again = await rs('up', '--vip-backend', 'iproute2');
    expect(again.code, describeResult(again)).toBe(0);
    expect(again.stdout).toMatch(/nothing to change: real server already up for 192\.0\.2\.100, 192\.0\.2\.101/);
    expect(again.stdout).not.toMatch(/^(set|added) /m);
    expect(await addresses(topo, 'rs', 'lo')).toEqual(addrs);
    expect(readFileSync(stateFile, 'utf8')).toBe(state);
  });

  it('down restores the exact earlier values (unusual ones), removes only the VIPs it added; status 3 again', async () => {
    const unusual = { 'net/ipv4/conf/all/arp_ignore': '3', 'net/ipv4/conf/all/arp_announce': '1', 'net/ipv4/conf/lo/arp_ignore': '8', 'net/ipv4/conf/lo/arp_announce': '1' };
    await writeSysctls(topo, 'rs', unusual);
    // An address that was there before lvskeep, and is one of the requested VIPs: it must survive down.
    await topo.exec('rs', ['ip', 'addr', 'add', `${VIP2}/32`, 'dev', 'lo']);
    const up = await rs('up');
    expect(up.code, describeResult(up)).toBe(0);
    expect(up.stdout).toContain(`unchanged: ${VIP2}/32 on lo already`);
    expect(await addresses(topo, 'rs', 'lo')).toEqual(['127.0.0.1/8 lo', `${VIP2}/32 lo`, `${VIP}/32 lo:0`]);

    const down = await rs('down');
    expect(down.code, describeResult(down)).toBe(0);
    expect(down.stdout).toContain('restored net.ipv4.conf.lo.arp_ignore 1 -> 8');
    expect(await readSysctls(topo, 'rs', ARP)).toEqual(unusual);
    expect(await addresses(topo, 'rs', 'lo')).toEqual(['127.0.0.1/8 lo', `${VIP2}/32 lo`]);
    expect(existsSync(join(stateDir, 'realserver.json'))).toBe(false);
    expect((await rs('status')).code).toBe(3);
    // down again: nothing left to do.
    const again = await rs('down');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to change/);
  });

  it('one VIP per invocation (as the systemd template runs it): sysctls stay until the last VIP is down', async () => {
    const one = (action: string, vip: string) => lvskeep(topo, 'rs', ['realserver', action, '--vip', vip, '--mode', 'dr', '--state-dir', stateDir]);
    expect((await one('up', VIP)).code).toBe(0);
    expect((await one('up', VIP2)).code).toBe(0);
    expect(await addresses(topo, 'rs', 'lo')).toEqual(['127.0.0.1/8 lo', `${VIP}/32 lo:0`, `${VIP2}/32 lo:1`]);
    const first = await one('down', VIP);
    expect(first.stdout).toMatch(/sysctls and links kept: still needed for 192\.0\.2\.101 on lo/);
    expect((await readSysctls(topo, 'rs', ['net/ipv4/conf/all/arp_ignore']))['net/ipv4/conf/all/arp_ignore']).toBe('1');
    expect((await one('down', VIP2)).code).toBe(0);
    expect((await readSysctls(topo, 'rs', ['net/ipv4/conf/all/arp_ignore']))['net/ipv4/conf/all/arp_ignore']).toBe('0');
  });

  it('parallel invocations (systemd starts the instances together) keep every VIP and distinct labels', async () => {
    const vips = ['192.0.2.110', '192.0.2.111', '192.0.2.112'];
    const one = (action: string, vip: string) => lvskeep(topo, 'rs', ['realserver', action, '--vip', vip, '--mode', 'dr', '--state-dir', stateDir]);
    const ups = await Promise.all(vips.map((v) => one('up', v)));
    for (const r of ups) expect(r.code, describeResult(r)).toBe(0);
    const lo = (await addresses(topo, 'rs', 'lo')).filter((a) => a.startsWith('192.0.2.'));
    expect(lo.map((a) => a.split(' ')[0]).sort()).toEqual(vips.map((v) => `${v}/32`));
    expect(lo.map((a) => a.split(' ')[1]).sort()).toEqual(['lo:0', 'lo:1', 'lo:2']);
    const state = JSON.parse(readFileSync(join(stateDir, 'realserver.json'), 'utf8')) as { vips: { address: string }[] };
    expect(state.vips.map((v) => v.address).sort()).toEqual(vips);
    const downs = await Promise.all(vips.map((v) => one('down', v)));
    for (const r of downs) expect(r.code, describeResult(r)).toBe(0);
    expect(await addresses(topo, 'rs', 'lo')).toEqual(['127.0.0.1/8 lo']);
    expect(await readSysctls(topo, 'rs', ARP)).toEqual(Object.fromEntries(ARP.map((k) => [k, '0'])));
  });

  it('an unknown device, a read-only /proc/sys and a non-root user fail with a message naming it, changing nothing', async () => {
    const unknown = await rs('up', '--dev', 'eth9');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown device eth9/);
    expect(unknown.stderr).toMatch(/nothing was changed/);

    // /proc/sys read-only as in many containers: a private mount namespace with a read-only bind mount.
    const ro = await lvskeep(topo, 'rs', ['realserver', 'up', '--vip', VIP, '--mode', 'dr', '--state-dir', stateDir], [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$@"',
      'sh',
    ]);
    expect(ro.code, describeResult(ro)).toBe(1);
    expect(ro.stderr).toMatch(/cannot write sysctl net\.ipv4\.conf\.all\.arp_ignore: .* read-only \/proc\/sys/);

    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const noState = await lvskeep(topo, 'rs', ['realserver', 'up', '--vip', VIP, '--mode', 'dr', '--state-dir', stateDir], asNobody);
    expect(noState.code, describeResult(noState)).toBe(1);
    expect(noState.stderr).toMatch(/realserver\.json(\.lock)?: .*permission denied.* \(run as root\)/);
    // With a state directory it may use, the first sysctl is what stops it.
    chmodSync(stateDir, 0o777);
    const nobody = await lvskeep(topo, 'rs', ['realserver', 'up', '--vip', VIP, '--mode', 'dr', '--state-dir', stateDir], asNobody);
    expect(nobody.code, describeResult(nobody)).toBe(1);
    expect(nobody.stderr).toMatch(/permission denied writing \/proc\/sys\/net\/ipv4\/conf\/all\/arp_ignore .*run as root/);
    expect(nobody.stderr).toMatch(/nothing was changed/);

    expect(await readSysctls(topo, 'rs', ARP)).toEqual(Object.fromEntries(ARP.map((k) => [k, '0'])));
    expect(await addresses(topo, 'rs', 'lo')).toEqual(['127.0.0.1/8 lo']);
  });
});

requireRoot('net/realserver traffic', ['ip', 'arping'])('a DR real server answers for the VIP but not ARP for it', () => {
  // client, director and real server on one bridge. The client routes the VIP via the director, the
  // director via the real server (as IPVS-DR does: same VIP, real server's MAC). Replies go straight back.
  let topo: Topology;
  let stateDir: string;
  afterAll(async () => {
    await topo?.destroy();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('the VIP service on the real server gets the connection; arping for the VIP gets no reply after up (and does before)', async () => {
    topo = new Topology();
    stateDir = scratchStateDir('traffic');
    for (const ns of ['client', 'director', 'rs']) await topo.namespace(ns);
    await topo.bridge('lan');
    await topo.plug({ ns: 'client', ifname: 'eth0', addresses: ['198.51.100.10/24'] }, 'lan');
    await topo.plug({ ns: 'director', ifname: 'eth0', addresses: ['198.51.100.1/24'] }, 'lan');
    await topo.plug({ ns: 'rs', ifname: 'eth0', addresses: ['198.51.100.3/24'] }, 'lan');
    await topo.sysctl('director', 'net.ipv4.ip_forward', '1');
    // Otherwise the director redirects the client straight to the real server (what `director prepare` fixes).
    await topo.sysctl('director', 'net.ipv4.conf.all.send_redirects', '0');
    await topo.sysctl('director', 'net.ipv4.conf.eth0.send_redirects', '0');
    await topo.route('client', [`${VIP}/32`, 'via', '198.51.100.1']);
    await topo.route('director', [`${VIP}/32`, 'via', '198.51.100.3']);

    const arping = () => topo.exec('client', ['arping', '-I', 'eth0', '-c', '2', '-w', '3', VIP], { check: false, timeoutMs: 15_000 });

    // Control: the VIP on lo without the sysctls -> Linux answers ARP for it on eth0 (the problem lvskeep solves).
    await topo.exec('rs', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    const leaky = await arping();
    expect(leaky.code, `arping before up should get a reply:\n${describeResult(leaky)}`).toBe(0);
    expect(leaky.stdout).toMatch(/reply from 192\.0\.2\.100/i);
    await topo.exec('rs', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'lo']);
    await topo.exec('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);

    const up = await lvskeep(topo, 'rs', ['realserver', 'up', '--vip', VIP, '--mode', 'dr', '--state-dir', stateDir]);
    expect(up.code, describeResult(up)).toBe(0);

    const server = topo.spawn('rs', [process.execPath, 'test/fixtures/http-name-server.mjs', VIP, '8080', 'real-server', '120'], { label: 'rs http' });
    await server.waitForOutput(/listening/, 30_000);
    const get = await topo.exec('client', [process.execPath, 'test/fixtures/http-get.mjs', `http://${VIP}:8080/`, '3', '5000'], { check: false, timeoutMs: 30_000 });
    expect(get.code, describeResult(get)).toBe(0);
    expect(JSON.parse(get.stdout.trim())).toEqual([
      { ok: true, status: 200, body: 'real-server' },
      { ok: true, status: 200, body: 'real-server' },
      { ok: true, status: 200, body: 'real-server' },
    ]);

    const silent = await arping();
    expect(silent.code, `arping after up must get no reply:\n${describeResult(silent)}`).not.toBe(0);
    expect(silent.stdout).not.toMatch(/reply from/i);
    // ... while the real server still answers ARP for its own address.
    const own = await topo.exec('client', ['arping', '-I', 'eth0', '-c', '1', '-w', '3', '198.51.100.3'], { check: false, timeoutMs: 15_000 });
    expect(own.code, describeResult(own)).toBe(0);
  });
});
