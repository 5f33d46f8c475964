// The connection pusher's adapter with real files and a real UDP socket on loopback: /proc tables written as the
// kernel prints them (large enough that rows straddle the reader's 256 KiB chunks), the datagrams received and
// decoded. Finished connections must not use up the connection bound: on a busy director they are most rows.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcConnPusher, type ConnPushReport, type ProcConnPusherOptions } from '../../../src/ipvs/conn-sync/pusher.js';
import { decodeSyncMessage, type SyncConn } from '../../../src/ipvs/conn-sync/sync-message.js';

// 203.0.113.10:80 = CB00710A:0050, 198.51.100.11:80 = C633640B:0050, clients 203.0.113.50 = CB007132.
const SERVICES = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  CB00710A:0050 rr
  -> C633640B:0050      Masq    1      1          0
`;
const HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
const row = (port: number, state: string): string => `TCP CB007132 ${port.toString(16).toUpperCase().padStart(4, '0')} CB00710A 0050 C633640B 0050 ${state.padEnd(11)} 119\n`;
const FINISHED = 6_000; // ~400 KiB of TIME_WAIT rows before the live ones
const LIVE = [50_001, 50_002, 50_003];

let dir: string;
let receiver: Socket;
let port: number;
const got: Buffer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lvskeep-pusher-'));
  writeFileSync(join(dir, 'ip_vs'), SERVICES);
  const rows = [HEADER];
  for (let i = 0; i < FINISHED; i++) rows.push(row(10_000 + i, i % 2 === 0 ? 'TIME_WAIT' : 'CLOSE'));
  for (const p of LIVE) rows.push(row(p, 'ESTABLISHED'));
  writeFileSync(join(dir, 'ip_vs_conn'), rows.join(''));
  receiver = createSocket('udp4');
  receiver.on('message', (m) => got.push(m));
  await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
  port = receiver.address().port;
});

afterAll(() => {
  receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function push(extra: ProcConnPusherOptions): Promise<{ report: ConnPushReport; conns: SyncConn[] }> {
  got.length = 0;
  const pusher = createProcConnPusher({
    connPath: join(dir, 'ip_vs_conn'),
    servicePath: join(dir, 'ip_vs'),
    mtu: () => Promise.resolve(1500),
    sourceAddress: () => '127.0.0.1',
    group: '127.0.0.1',
    port,
    ...extra,
  });
  try {
    const report = await pusher.push({ interface: 'lo', syncId: 7 });
    const deadline = Date.now() + 5_000;
    while (got.length < report.datagrams && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const msgs = got.map((b) => decodeSyncMessage(b));
    expect(msgs.every((m) => m.syncId === 7)).toBe(true);
    return { report, conns: msgs.flatMap((m) => m.conns) };
  } finally {
    await pusher.close();
  }
}

describe('connection pusher: /proc files in, sync datagrams out', () => {
  it('live connections behind thousands of finished ones are all sent, even with a bound smaller than the finished rows', async () => {
    const { report, conns } = await push({ maxConns: 100 });
    expect(conns.map((c) => [c.clientPort, c.state, c.client, c.virtual, c.dest])).toEqual(LIVE.map((p) => [p, 1, '203.0.113.50', '203.0.113.10', '198.51.100.11']));
    expect(report).toMatchObject({ conns: 3, datagrams: 1, skipped: { finished: FINISHED } });
  });

  it('the live-connection bound: the first ones are sent, the rest counted as over the limit', async () => {
    const { report, conns } = await push({ maxConns: 2 });
    expect(conns.map((c) => c.clientPort)).toEqual(LIVE.slice(0, 2));
    expect(report.skipped).toMatchObject({ finished: FINISHED, 'over-limit': 1 });
  });

  it('the byte bound: a table larger than it is read up to the bound, the rest reported unread', async () => {
    const { report, conns } = await push({ maxScanBytes: 100 * 1024 });
    expect(conns).toEqual([]);
    expect(report.datagrams).toBe(0);
    expect(report.skipped.unread).toBe(1);
    expect(report.skipped.finished).toBeGreaterThan(1_000);
    expect(report.skipped.finished).toBeLessThan(FINISHED);
    expect(report.skipped.unreadable).toBeUndefined(); // a row cut by the bound is dropped, not misread
  });
});
