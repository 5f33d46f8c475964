// Interop of the raw transport with keepalived 2.2.7 (VRRPv3, IPv4), the reference peer:
// - receive: keepalived's adverts reach our receiver intact, with TTL 255, src, dst and ifindex;
// - send: our adverts (priority 200, checksum computed here, not by the transport) keep a keepalived
//   backup from taking over, and once we stop it becomes master: proof that it accepted them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';
import { internetChecksum } from '../../../src/vip/frames.js';
import { TRANSPORT_AGENT, agentArgv, ifindexIn, parseLines, receiverEvents, startReceiver } from './agent-runner.js';

function keepalivedConfig(state: 'MASTER' | 'BACKUP', priority: number): string {
  return [
    'global_defs {',
    '  router_id lkio',
    '  vrrp_version 3',
    '}',
    'vrrp_instance VI_1 {',
    `  state ${state}`,
    '  interface eth0',
    '  virtual_router_id 51',
    `  priority ${priority}`,
    '  advert_int 1',
    '  virtual_ipaddress {',
    '    192.0.2.10/24',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** VRRPv3 advert for VRID 51 with one address 192.0.2.10; checksum over the IPv4 pseudo-header (RFC 5798 5.2.8). */
function advertHex(priority: number, src: string): string {
  const vrrp = Buffer.from([0x31, 51, priority, 1, 0x00, 100, 0, 0, 192, 0, 2, 10]);
  const pseudo = Buffer.concat([Buffer.from(src.split('.').map(Number)), Buffer.from([224, 0, 0, 18, 0, 112, 0, vrrp.length])]);
  vrrp.writeUInt16BE(internetChecksum(pseudo, vrrp), 6);
  return vrrp.toString('hex');
}

requireRoot('net/vrrp-io/keepalived-interop', ['ip', 'keepalived'])('raw transport interop with keepalived (VRRPv3, IPv4)', () => {
  let topo: Topology;
  let dir: string;

  const startKeepalived = (local: string, state: 'MASTER' | 'BACKUP', priority: number): NsProcess => {
    const conf = join(dir, `${local}.conf`);
    writeFileSync(conf, keepalivedConfig(state, priority));
    // -P VRRP only, -n stay in the foreground (so its PID is the one we stop), -l log to the console.
    return topo.spawn(local, ['keepalived', '-P', '-n', '-l', '-f', conf, '-p', join(dir, `${local}.pid`), '-r', join(dir, `${local}.vrrp.pid`)], {
      label: `keepalived ${local}`,
    });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lkio-ka-'));
    topo = new Topology();
    await topo.namespace('a');
    await topo.namespace('b');
    await topo.link({ ns: 'a', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, { ns: 'b', ifname: 'eth0', addresses: ['192.0.2.2/24'] });
  });

  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives keepalived adverts with TTL 255, src, dst and ifindex', async () => {
    const ifindexB = await ifindexIn(topo, 'b', 'eth0');
    const ka = startKeepalived('a', 'MASTER', 150);
    const rx = await startReceiver(topo, 'b', { role: 'recv', kind: 'raw', family: 4, interface: 'eth0', source: '192.0.2.2', count: 2, payloadHex: '', timeoutMs: 20_000 });
    const packets = (await receiverEvents(rx)).filter((e) => e.event === 'packet');
    await ka.stop();
    expect(packets).toHaveLength(2);
    for (const p of packets) {
      expect(p).toMatchObject({ src: '192.0.2.1', dst: '224.0.0.18', ttl: 255, ifindex: ifindexB });
      // Byte for byte what we build for priority 150: v3 advert, VRID 51, one address, 100 cs, and the
      // same pseudo-header checksum keepalived computed (which also checks advertHex used below).
      expect(p.hex).toBe(advertHex(150, '192.0.2.1'));
    }
  });

  it('keeps a keepalived backup in BACKUP while we advertise priority 200, and it takes over when we stop', async () => {
    const sender = topo.spawn(
      'a',
      agentArgv(TRANSPORT_AGENT, { role: 'send', kind: 'raw', family: 4, interface: 'eth0', source: '192.0.2.1', count: 9, intervalMs: 1000, payloadHex: advertHex(200, '192.0.2.1'), timeoutMs: 30_000 }),
      { cwd: REPO_ROOT, label: 'advert sender' },
    );
    await sender.waitForOutput(/"event":"sending"/, 30_000);
    const ka = startKeepalived('b', 'BACKUP', 100);
    await ka.waitForOutput(/Entering BACKUP STATE/, 15_000);
    // Master_Down_Interval for priority 100 at 1 s adverts is about 3.6 s; wait well past it.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(ka.output()).not.toMatch(/Entering MASTER STATE/);
    const exit = await sender.exited;
    expect(exit.code).toBe(0);
    expect(parseLines(sender.output()).at(-1)).toMatchObject({ event: 'sent', count: 9, stats: { sent: 9, sendErrors: 0 } });
    await ka.waitForOutput(/Entering MASTER STATE/, 10_000);
    await ka.stop();
  });
});
