// Interop of the raw transport with keepalived 2.2.7 (VRRPv3, IPv4 and IPv6), the reference peer:
// - receive: keepalived's adverts reach our receiver intact, with TTL 255, src, dst and ifindex;
// - send: our adverts (priority 200, checksum computed here, not by the transport) keep a keepalived
//   backup from taking over, and once we stop it becomes master: proof that it accepted them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';
import { internetChecksum } from '../../../src/vip/frames.js';
import { ipBytes } from '../../../src/vip/ip-bytes.js';
import { TRANSPORT_AGENT, agentArgv, ifindexIn, parseLines, receiverEvents, startReceiver } from './agent-runner.js';

interface FamilyCase {
  family: 4 | 6;
  vrid: number;
  a: string;
  b: string;
  group: string;
  vip: string;
}
const CASES: FamilyCase[] = [
  { family: 4, vrid: 51, a: '192.0.2.1', b: '192.0.2.2', group: '224.0.0.18', vip: '192.0.2.10' },
  { family: 6, vrid: 52, a: 'fe80::1', b: 'fe80::2', group: 'ff02::12', vip: '2001:db8::10' },
];

function keepalivedConfig(c: FamilyCase, state: 'MASTER' | 'BACKUP', priority: number, source: string): string {
  return [
    'global_defs {',
    '  router_id lkio',
    '  vrrp_version 3',
    '}',
    'vrrp_instance VI_1 {',
    `  state ${state}`,
    '  interface eth0',
    `  virtual_router_id ${c.vrid}`,
    `  priority ${priority}`,
    '  advert_int 1',
    `  mcast_src_ip ${source}`,
    '  virtual_ipaddress {',
    `    ${c.vip}/${c.family === 4 ? 24 : 64}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** VRRPv3 advert with one address and a 100 cs interval; checksum over the IPv4 / IPv6 pseudo-header (RFC 5798 5.2.8). */
function advertHex(c: FamilyCase, priority: number, src: string): string {
  const addr = ipBytes(c.vip);
  const vrrp = Buffer.concat([Buffer.from([0x31, c.vrid, priority, 1, 0x00, 100, 0, 0]), addr]);
  const pseudo =
    c.family === 4
      ? Buffer.concat([ipBytes(src), ipBytes(c.group), Buffer.from([0, 112, 0, vrrp.length])])
      : Buffer.concat([ipBytes(src), ipBytes(c.group), Buffer.from([0, 0, 0, vrrp.length, 0, 0, 0, 112])]);
  vrrp.writeUInt16BE(internetChecksum(pseudo, vrrp), 6);
  return vrrp.toString('hex');
}

requireRoot('net/vrrp-io/keepalived-interop', ['ip', 'keepalived'])('raw transport interop with keepalived (VRRPv3)', () => {
  let topo: Topology;
  let dir: string;

  const startKeepalived = (c: FamilyCase, local: 'a' | 'b', state: 'MASTER' | 'BACKUP', priority: number): NsProcess => {
    const conf = join(dir, `${local}${c.family}.conf`);
    writeFileSync(conf, keepalivedConfig(c, state, priority, local === 'a' ? c.a : c.b));
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
    await topo.exec('a', ['ip', 'addr', 'add', 'fe80::1/64', 'dev', 'eth0', 'nodad']);
    await topo.exec('b', ['ip', 'addr', 'add', 'fe80::2/64', 'dev', 'eth0', 'nodad']);
  });

  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(CASES)('IPv$family', (c) => {
    it('receives keepalived adverts byte for byte with TTL / hop limit 255, src, dst and ifindex', async () => {
      const ifindexB = await ifindexIn(topo, 'b', 'eth0');
      const ka = startKeepalived(c, 'a', 'MASTER', 150);
      const rx = await startReceiver(topo, 'b', { role: 'recv', kind: 'raw', family: c.family, interface: 'eth0', source: c.b, count: 2, payloadHex: '', timeoutMs: 20_000 });
      const packets = (await receiverEvents(rx)).filter((e) => e.event === 'packet');
      await ka.stop();
      expect(packets).toHaveLength(2);
      for (const p of packets) {
        expect(p).toMatchObject({ src: c.a, dst: c.group, ttl: 255, ifindex: ifindexB });
        // What we build for priority 150, including the pseudo-header checksum keepalived computed
        // (which also checks advertHex, used for the send direction below).
        expect(p.hex).toBe(advertHex(c, 150, c.a));
      }
    });

    it('holds a keepalived backup in BACKUP while we advertise priority 200; it takes over when we stop', async () => {
      const sender = topo.spawn(
        'a',
        agentArgv(TRANSPORT_AGENT, { role: 'send', kind: 'raw', family: c.family, interface: 'eth0', source: c.a, count: 9, intervalMs: 1000, payloadHex: advertHex(c, 200, c.a), timeoutMs: 30_000 }),
        { cwd: REPO_ROOT, label: 'advert sender' },
      );
      await sender.waitForOutput(/"event":"sending"/, 30_000);
      const ka = startKeepalived(c, 'b', 'BACKUP', 100);
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
});
