// Request/response matching of the genl adapter against a hand-driven fake kernel end.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NlFlag } from '../../../src/ipvs/netlink/constants.js';
import { nlaString } from '../../../src/ipvs/netlink/nla.js';
import { createGenlTransport, NlRequestError, NlTransportError } from '../../../src/ipvs/netlink/nl-socket.js';
import { doneMsg, errorMsg, FakeRawSocket } from './fake-kernel.js';

const FAMILY = 28;
const reply = (seq: number, n: number, flags = 0) => ({ type: FAMILY, flags, seq, pid: 0, payload: Buffer.from([n, 1, 0, 0]) });

afterEach(() => {
  vi.useRealTimers();
});

describe('genl request matching', () => {
  it('a command resolves on the kernel ACK, with the answer that came before it', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const p = t.request(FAMILY, NlFlag.REQUEST | NlFlag.ACK, Buffer.from([15, 1, 0, 0]), { timeoutMs: 1000, dump: false });
    const seq = sock.lastSeq();
    expect(sock.sent[0]).toMatchObject({ type: FAMILY, flags: NlFlag.REQUEST | NlFlag.ACK, pid: 0 });
    sock.deliver(reply(seq, 14));
    sock.deliver(errorMsg(seq, 0));
    const msgs = await p;
    expect(msgs.map((m) => m.payload[0])).toEqual([14]);
  });

  it('a dump collects parts across datagrams until DONE, ignoring other sequence numbers', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const p = t.request(FAMILY, NlFlag.REQUEST | NlFlag.ACK | NlFlag.DUMP, Buffer.from([4, 1, 0, 0]), { timeoutMs: 1000, dump: true });
    const seq = sock.lastSeq();
    sock.deliver(reply(seq, 1, NlFlag.MULTI), reply(seq, 2, NlFlag.MULTI));
    sock.deliver(reply(seq + 1000, 9, NlFlag.MULTI)); // stray: not ours
    sock.deliver(errorMsg(seq, 0)); // an ACK inside a dump does not end it
    sock.deliver(reply(seq, 3, NlFlag.MULTI), doneMsg(seq));
    expect((await p).map((m) => m.payload[0])).toEqual([1, 2, 3]);
  });

  it('kernel errors carry the errno name; a failed dump reports the error in DONE', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const cmd = t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false });
    sock.deliver(errorMsg(sock.lastSeq(), 17));
    await expect(cmd).rejects.toMatchObject({ name: 'NlRequestError', errno: 17, code: 'EEXIST' });
    const dump = t.request(FAMILY, 0x305, Buffer.alloc(4), { timeoutMs: 1000, dump: true });
    sock.deliver(reply(sock.lastSeq(), 1, NlFlag.MULTI), doneMsg(sock.lastSeq(), 3));
    await expect(dump).rejects.toBeInstanceOf(NlRequestError);
    await expect(dump).rejects.toMatchObject({ code: 'ESRCH' });
  });

  it('reads the extended ack text when the kernel sends one', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const p = t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false });
    const seq = sock.lastSeq();
    const echoedHeader = Buffer.alloc(16);
    echoedHeader.writeUInt32LE(20, 0); // the request was 20 bytes; CAPPED: only its header is echoed
    sock.deliver(errorMsg(seq, 22, Buffer.concat([echoedHeader, nlaString(1, 'Unknown scheduler')]), NlFlag.CAPPED | NlFlag.ACK_TLVS));
    await expect(p).rejects.toMatchObject({ code: 'EINVAL', extAck: 'Unknown scheduler', message: 'EINVAL: Unknown scheduler' });
  });

  it('a dump the kernel marks interrupted is reported as such, not returned half-read', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const p = t.request(FAMILY, 0x305, Buffer.alloc(4), { timeoutMs: 1000, dump: true });
    sock.deliver(reply(sock.lastSeq(), 1, NlFlag.MULTI | NlFlag.DUMP_INTR), doneMsg(sock.lastSeq()));
    await expect(p).rejects.toMatchObject({ name: 'NlTransportError', code: 'EDUMPINTR' });
  });

  it('times out, then ignores the late answer', async () => {
    vi.useFakeTimers();
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const p = t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 500, dump: false });
    const seq = sock.lastSeq();
    const check = expect(p).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'no answer from the kernel within 500 ms' });
    await vi.advanceTimersByTimeAsync(501);
    await check;
    expect(() => sock.deliver(errorMsg(seq, 0))).not.toThrow();
  });

  it('a malformed datagram fails the waiting requests instead of crashing', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const p = t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false });
    const bad = Buffer.alloc(20);
    bad.writeUInt32LE(400, 0); // claims 400 bytes
    sock.emit('message', bad);
    await expect(p).rejects.toMatchObject({ code: 'EBADMSG' });
  });

  it('socket errors, send errors and close fail pending requests; requests after close are refused', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const a = t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false });
    sock.emit('error', new Error('ENOBUFS'));
    await expect(a).rejects.toMatchObject({ code: 'ESOCKET' });
    sock.sendError = new Error('EPERM');
    await expect(t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false })).rejects.toMatchObject({ code: 'ESOCKET', message: 'netlink send: EPERM' });
    sock.sendError = undefined;
    const c = t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false });
    t.close();
    await expect(c).rejects.toBeInstanceOf(NlTransportError);
    expect(sock.closed).toBe(true);
    await expect(t.request(FAMILY, 5, Buffer.alloc(4), { timeoutMs: 1000, dump: false })).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('matches concurrent requests by sequence number, answered out of order', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const ps = [0, 1, 2].map((i) => t.request(FAMILY, 5, Buffer.from([i, 1, 0, 0]), { timeoutMs: 1000, dump: false }));
    const seqs = sock.sent.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(3);
    sock.deliver(errorMsg(seqs[2]!, 0), errorMsg(seqs[0]!, 2));
    sock.deliver(errorMsg(seqs[1]!, 0));
    const settled = await Promise.allSettled(ps);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });

  it('queues dumps: the kernel runs one per socket and would answer a second with EBUSY', async () => {
    const sock = new FakeRawSocket();
    const t = createGenlTransport(sock);
    const first = t.request(FAMILY, 0x305, Buffer.from([4, 1, 0, 0]), { timeoutMs: 1000, dump: true });
    const second = t.request(FAMILY, 0x305, Buffer.from([8, 1, 0, 0]), { timeoutMs: 1000, dump: true });
    const command = t.request(FAMILY, 5, Buffer.from([6, 1, 0, 0]), { timeoutMs: 1000, dump: false });
    await Promise.resolve();
    expect(sock.sent.map((m) => m.payload[0])).toEqual([4, 6]); // commands do not wait for dumps
    sock.deliver(errorMsg(sock.sent[1]!.seq, 0));
    await command;
    sock.deliver(doneMsg(sock.sent[0]!.seq, 22));
    await expect(first).rejects.toMatchObject({ code: 'EINVAL' });
    await new Promise((r) => setImmediate(r));
    expect(sock.sent.map((m) => m.payload[0])).toEqual([4, 6, 8]); // the next dump goes out even after a failed one
    sock.deliver(reply(sock.lastSeq(), 5, NlFlag.MULTI), doneMsg(sock.lastSeq()));
    expect((await second).map((m) => m.payload[0])).toEqual([5]);
  });
});
