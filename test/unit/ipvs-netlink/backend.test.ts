// The backend over a scripted transport: the family lookup, dumps answered with the kernel's own captured
// replies, per-operation errors, windowed apply order, retries and timeouts.
import { describe, expect, it } from 'vitest';
import { IpvsError, type IpvsOp } from '../../../src/ipvs/backend.js';
import type { DestSpec, ServiceKey, ServiceSpec } from '../../../src/ipvs/model.js';
import { CmdAttr, CtrlAttr, GENL_ID_CTRL, IpvsCmd, NlFlag } from '../../../src/ipvs/netlink/constants.js';
import { decodeDest } from '../../../src/ipvs/netlink/attrs.js';
import { genlPayload, parseGenl, type NlMessage } from '../../../src/ipvs/netlink/framing.js';
import { createNetlinkBackend, FAMILY_MISSING, inWindow } from '../../../src/ipvs/netlink/netlink-backend.js';
import { NlaSet, nlaU16 } from '../../../src/ipvs/netlink/nla.js';
import { NlRequestError, NlTransportError } from '../../../src/ipvs/netlink/nl-socket.js';
import { parseIpvsadmSave, saveLinesOf } from '../../fixtures/ipvs-netlink/ipvsadm-save.js';
import { ScriptedTransport, type SentRequest } from './fake-kernel.js';
import { step } from './fixtures.js';

const FAMILY = 28;
const familyReply: NlMessage = { type: GENL_ID_CTRL, flags: 0, seq: 1, pid: 0, payload: genlPayload(1, 2, [nlaU16(CtrlAttr.FAMILY_ID, FAMILY)]) };
const cmdOf = (r: SentRequest): number => r.payload[0] ?? -1;

/** A kernel that knows the family and hands IPVS requests to `ipvs`. */
function kernel(ipvs: (req: SentRequest) => Promise<NlMessage[]> | NlMessage[]): ScriptedTransport {
  return new ScriptedTransport((req) => (req.type === GENL_ID_CTRL ? [familyReply] : ipvs(req)));
}

/** Replies ipvsadm got in the `save` capture: the service dump, and each GET_DEST dump by its exact request bytes. */
function capturedTable(): { services: NlMessage[]; destsByRequest: Map<string, NlMessage[]> } {
  const s = step('save');
  const services: NlMessage[] = [];
  const destsByRequest = new Map<string, NlMessage[]>();
  let current: NlMessage[] | undefined;
  for (const m of s.ipvs) {
    if (m.type !== s.familyId) continue;
    if (m.dir === 'send' && m.payload[0] === IpvsCmd.GET_DEST) {
      current = [];
      destsByRequest.set(m.payload.toString('hex'), current);
    } else if (m.dir === 'recv' && m.payload[0] === IpvsCmd.NEW_SERVICE) services.push({ ...m, type: FAMILY });
    else if (m.dir === 'recv' && m.payload[0] === IpvsCmd.NEW_DEST) current?.push({ ...m, type: FAMILY });
  }
  return { services, destsByRequest };
}

const key: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 };
const spec = (scheduler: string): ServiceSpec => ({ key, scheduler, schedulerFlags: [], onePacket: false });
const dest = (address: string, weight = 1): DestSpec => ({ family: 4, address, port: 80, forwarding: 'masq', weight, upperThreshold: 0, lowerThreshold: 0 });

describe('netlink backend', () => {
  it('without the IPVS family says to load ip_vs, and closes its socket', async () => {
    const t = new ScriptedTransport(() => Promise.reject(new NlRequestError(2, 'ENOENT')));
    const err = await createNetlinkBackend({ transport: t }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsError);
    expect((err as IpvsError).message).toBe(FAMILY_MISSING);
    expect((err as IpvsError).message).toBe('IPVS generic netlink family not found: is the ip_vs module loaded? (modprobe ip_vs)');
    expect(t.closed).toBe(true);
  });

  it('a family lookup that times out says so', async () => {
    const t = new ScriptedTransport(() => Promise.reject(new NlTransportError('ETIMEDOUT', 'no answer from the kernel within 5 ms')));
    await expect(createNetlinkBackend({ transport: t, timeoutMs: 5 })).rejects.toMatchObject({ errno: 'ETIMEDOUT', message: 'IPVS family lookup: no answer from the kernel within 5 ms' });
    expect(t.requests[0]?.opts).toEqual({ timeoutMs: 5, dump: false });
  });

  it('dumps services and destinations from the kernel replies ipvsadm got, equal to its -Sn output', async () => {
    const { services, destsByRequest } = capturedTable();
    const t = kernel((req) => {
      if (cmdOf(req) === IpvsCmd.GET_SERVICE) return services;
      const answer = destsByRequest.get(req.payload.toString('hex'));
      if (!answer) throw new Error(`GET_DEST request differs from ipvsadm's: ${req.payload.toString('hex')}`);
      return answer;
    });
    const backend = await createNetlinkBackend({ transport: t });
    const table = await backend.dump({ stats: true });
    expect(saveLinesOf(table)).toEqual(parseIpvsadmSave(step('save').stdout));
    expect(table.every((s) => s.stats !== undefined && s.dests.every((d) => d.stats !== undefined))).toBe(true);
    expect((await backend.dump()).every((s) => s.stats === undefined && s.dests.every((d) => d.stats === undefined))).toBe(true);
    const dumps = t.requests.filter((r) => r.type === FAMILY);
    expect(dumps.every((r) => r.opts.dump && (r.flags & NlFlag.DUMP) === NlFlag.DUMP)).toBe(true);
    await backend.close();
    expect(t.closed).toBe(true);
  });

  it('re-reads a dump the kernel flagged as interrupted, and gives up after the retries', async () => {
    let interrupted = 2;
    const t = kernel(() => (interrupted-- > 0 ? Promise.reject(new NlTransportError('EDUMPINTR', 'the table changed during the dump (NLM_F_DUMP_INTR)')) : []));
    const backend = await createNetlinkBackend({ transport: t, dumpRetries: 3 });
    expect(await backend.dump()).toEqual([]);
    interrupted = 10;
    await expect(backend.dump()).rejects.toMatchObject({ errno: 'EDUMPINTR', operation: { op: 'dump' } });
  });

  it('reports each failed operation with its object and carries on; results keep the input order', async () => {
    const ops: IpvsOp[] = [
      { op: 'add-service', service: spec('rr') },
      { op: 'add-dest', service: key, dest: dest('198.51.100.11') },
      { op: 'add-service', service: { ...spec('nosuch'), key: { ...key, port: 81 } } },
      { op: 'add-dest', service: key, dest: dest('198.51.100.300') },
      { op: 'edit-dest', service: key, dest: dest('198.51.100.12', 3) },
      { op: 'del-service', key: { ...key, port: 99 } },
    ];
    let n = 0;
    const t = kernel(async (req) => {
      // Answer later requests sooner, to shuffle completion order inside the window.
      await new Promise((r) => setTimeout(r, 10 - n++));
      const cmd = cmdOf(req);
      if (cmd === IpvsCmd.NEW_SERVICE && req.payload.includes(Buffer.from('nosuch'))) throw new NlRequestError(2, 'ENOENT');
      if (cmd === IpvsCmd.NEW_DEST) throw new NlRequestError(17, 'EEXIST');
      if (cmd === IpvsCmd.DEL_SERVICE) throw new NlTransportError('ETIMEDOUT', 'no answer from the kernel within 5000 ms');
      return [];
    });
    const backend = await createNetlinkBackend({ transport: t, window: 4 });
    const r = await backend.apply(ops);
    expect(r.applied).toEqual([ops[0], ops[4]]);
    expect(r.failed.map((f) => f.error.message)).toEqual([
      'NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: EEXIST',
      'NEW_SERVICE tcp 203.0.113.1:81: ENOENT (scheduler "nosuch" not known to the kernel: is module ip_vs_nosuch available?)',
      'NEW_DEST 198.51.100.300:80 on tcp 203.0.113.1:80: EINVAL (not an IPv4 address: "198.51.100.300")',
      'DEL_SERVICE tcp 203.0.113.1:99: ETIMEDOUT (no answer from the kernel within 5000 ms)',
    ]);
    expect(r.failed.map((f) => f.op)).toEqual([ops[1], ops[2], ops[3], ops[5]]);
    expect(r.failed.every((f) => f.error instanceof IpvsError)).toBe(true);
    // The unencodable destination was never sent: 1 lookup + 5 operations.
    expect(t.requests).toHaveLength(6);
    expect(t.requests.filter((q) => q.type === FAMILY).map(cmdOf)).toEqual([IpvsCmd.NEW_SERVICE, IpvsCmd.NEW_DEST, IpvsCmd.NEW_SERVICE, IpvsCmd.SET_DEST, IpvsCmd.DEL_SERVICE]);
  });

  it('sends operations in the given order even with a window', async () => {
    const ops: IpvsOp[] = Array.from({ length: 50 }, (_, i) => ({ op: 'add-dest', service: key, dest: dest(`198.51.100.${i + 1}`) }));
    const t = kernel(() => []);
    const backend = await createNetlinkBackend({ transport: t, window: 8 });
    const r = await backend.apply(ops);
    expect(r.applied).toEqual(ops);
    const sentAddresses = t.requests.filter((q) => q.type === FAMILY).map((q) => decodeDest(new NlaSet(parseGenl(q.payload, 'request').attrs, 'request'), 4).address);
    expect(sentAddresses).toEqual(ops.map((o) => (o.op === 'add-dest' ? o.dest.address : '')));
  });

  it('flush, zero and info name the command when the kernel fails them', async () => {
    const t = kernel((req) => {
      if (cmdOf(req) === IpvsCmd.GET_INFO) return [{ type: FAMILY, flags: 0, seq: 2, pid: 0, payload: Buffer.from('0e010000080001000102010008000200000001000000', 'hex').subarray(0, 20) }];
      throw new NlRequestError(1, 'EPERM');
    });
    const backend = await createNetlinkBackend({ transport: t });
    expect(await backend.info()).toEqual({ version: '1.2.1', connTableSize: 65536 });
    await expect(backend.flush()).rejects.toMatchObject({ errno: 'EPERM', message: 'FLUSH: EPERM', operation: { op: 'flush' } });
    await expect(backend.zero(key)).rejects.toMatchObject({ message: 'ZERO tcp 203.0.113.1:80: EPERM' });
  });

  it('a reply of another family is an error, not a silently wrong table', async () => {
    const t = kernel(() => [{ type: 99, flags: 2, seq: 2, pid: 0, payload: Buffer.from([1, 1, 0, 0]) }]);
    const backend = await createNetlinkBackend({ transport: t });
    await expect(backend.dump()).rejects.toMatchObject({ errno: 'EBADMSG', message: 'dump of the IPVS table: GET_SERVICE reply 0: message type 99, expected IPVS family 28' });
  });
});

describe('inWindow', () => {
  it('keeps at most `window` calls in flight, starts them in order, and rethrows the first error after the others settle', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const settled: number[] = [];
    const err = await inWindow([0, 1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      started.push(item);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 8 - item));
      inFlight--;
      settled.push(item);
      if (item === 2) throw new Error('item 2 failed');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('item 2 failed');
    expect(peak).toBe(3);
    expect(started).toEqual([...started].sort((a, b) => a - b));
    expect(inFlight).toBe(0);
    expect(settled.length).toBe(started.length);
    expect(started.length).toBeLessThan(8);
  });
});

describe('unreadable replies', () => {
  it('a malformed service in a dump is EBADMSG naming the reply and attribute', async () => {
    const bad: NlMessage = { type: FAMILY, flags: 2, seq: 2, pid: 0, payload: genlPayload(IpvsCmd.NEW_SERVICE, 1, [nlaU16(CmdAttr.DEST, 1)]) };
    const t = kernel(() => [bad]);
    const backend = await createNetlinkBackend({ transport: t });
    await expect(backend.dump()).rejects.toMatchObject({ errno: 'EBADMSG', message: 'dump of the IPVS table: GET_SERVICE reply 0: SERVICE attribute missing' });
  });
});
