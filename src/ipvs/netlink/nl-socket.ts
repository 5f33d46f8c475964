/**
 * Thin adapter: a generic netlink socket (from the `netlink` package, used only for the raw socket) with our
 * own request/response matching. We do this ourselves because the package's request() treats an error in
 * NLMSG_DONE as success, keeps one multipart buffer per socket, and turns kernel errors into plain text.
 * The socket lives in the network namespace of the process that opens it.
 */
import { getSystemErrorName } from 'node:util';
import { RawNetlinkSocket } from 'netlink';
import { NETLINK_GENERIC, NlFlag, NlMsgType } from './constants.js';
import { encodeNlMessage, parseDoneErrno, parseNlError, parseNlMessages, type NlMessage } from './framing.js';

/** The kernel refused a request (NLMSG_ERROR or a failed dump). */
export class NlRequestError extends Error {
  constructor(
    readonly errno: number,
    readonly code: string,
    readonly extAck?: string,
  ) {
    super(extAck ? `${code}: ${extAck}` : code);
    this.name = 'NlRequestError';
  }
}

/** No answer in time, the socket failed, or the reply made no sense; `code` says which. */
export class NlTransportError extends Error {
  constructor(
    readonly code: 'ETIMEDOUT' | 'ECLOSED' | 'ESOCKET' | 'EBADMSG' | 'EDUMPINTR' | 'ETOOBIG',
    message: string,
  ) {
    super(message);
    this.name = 'NlTransportError';
  }
}

export interface NlRequestOptions {
  timeoutMs: number;
  dump: boolean;
}

/** What the backend needs from a socket; tests inject a fake kernel. */
export interface NlTransport {
  /** Resolves with the reply messages (dump parts, or the one answer of a command; none for a bare ACK). */
  request(type: number, flags: number, payload: Buffer, opts: NlRequestOptions): Promise<NlMessage[]>;
  close(): void;
}

export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

interface Pending {
  dump: boolean;
  replies: NlMessage[];
  interrupted: boolean;
  resolve: (m: NlMessage[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Bounds one dump's memory: ~20k services or ~100k destinations is far beyond any real table. */
const MAX_DUMP_MESSAGES = 500_000;

/** The part of the package's RawNetlinkSocket we use; unit tests pass a fake kernel end. */
export interface RawSocketLike {
  on(event: 'message', listener: (msg: Buffer) => void): unknown;
  on(event: 'truncatedMessage', listener: (msg: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(msg: Uint8Array, options: { port: number }, callback: (error?: Error) => void): void;
  ref(): void;
  unref(): void;
  close(): void;
}

/** A generic netlink socket in the current network namespace. */
export function openGenlSocket(): NlTransport {
  return createGenlTransport(new RawNetlinkSocket(NETLINK_GENERIC, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 }));
}

/** Request/response matching by sequence number over a raw netlink socket. */
export function createGenlTransport(sock: RawSocketLike): NlTransport {
  const pending = new Map<number, Pending>();
  let seq = (Math.random() * 0x7fffffff) >>> 0;
  let closed = false;
  sock.unref();

  const settle = (s: number, p: Pending, err: Error | null): void => {
    clearTimeout(p.timer);
    pending.delete(s);
    if (pending.size === 0 && !closed) sock.unref();
    if (err) p.reject(err);
    else p.resolve(p.replies);
  };

  const failAll = (err: Error): void => {
    for (const [s, p] of [...pending]) settle(s, p, err);
  };

  sock.on('message', (buf: Buffer) => {
    let msgs: NlMessage[];
    try {
      msgs = parseNlMessages(buf, 'netlink reply');
    } catch (e) {
      failAll(new NlTransportError('EBADMSG', (e as Error).message));
      return;
    }
    for (const m of msgs) {
      const p = pending.get(m.seq);
      if (!p) continue; // a late answer to a request that timed out, or an ACK after a dump's DONE
      if (m.flags & NlFlag.DUMP_INTR) p.interrupted = true;
      if (m.type === NlMsgType.ERROR) {
        let body;
        try {
          body = parseNlError(m, 'NLMSG_ERROR');
        } catch (e) {
          settle(m.seq, p, new NlTransportError('EBADMSG', (e as Error).message));
          continue;
        }
        if (body.errno !== 0) settle(m.seq, p, new NlRequestError(body.errno, errnoName(body.errno), body.message));
        else if (!p.dump) settle(m.seq, p, null); // a dump ends with DONE, not with an ACK
      } else if (m.type === NlMsgType.DONE) {
        const errno = parseDoneErrno(m);
        if (errno !== 0) settle(m.seq, p, new NlRequestError(errno, errnoName(errno)));
        else if (p.interrupted) settle(m.seq, p, new NlTransportError('EDUMPINTR', 'the table changed during the dump (NLM_F_DUMP_INTR)'));
        else settle(m.seq, p, null);
      } else if (m.type === NlMsgType.NOOP) {
        continue;
      } else {
        p.replies.push(m);
        if (p.replies.length > MAX_DUMP_MESSAGES) settle(m.seq, p, new NlTransportError('ETOOBIG', `reply has more than ${MAX_DUMP_MESSAGES} messages`));
      }
    }
  });
  sock.on('truncatedMessage', () => failAll(new NlTransportError('EBADMSG', 'netlink reply truncated')));
  sock.on('error', (err: Error) => failAll(new NlTransportError('ESOCKET', `netlink socket: ${err.message}`)));

  // The kernel runs one dump per socket at a time and answers a second with EBUSY: dumps queue here.
  const dumpQueue: (() => void)[] = [];
  let dumpBusy = false;
  const nextDump = (): void => {
    const start = dumpQueue.shift();
    if (start) start();
    else dumpBusy = false;
  };

  const transport: NlTransport = {
    request(type, flags, payload, opts) {
      if (!opts.dump) return sendRequest(type, flags, payload, opts);
      if (!dumpBusy) {
        dumpBusy = true;
        return sendRequest(type, flags, payload, opts).finally(nextDump);
      }
      return new Promise<NlMessage[]>((resolve, reject) => {
        dumpQueue.push(() => {
          sendRequest(type, flags, payload, opts).then(resolve, reject).finally(nextDump);
        });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      failAll(new NlTransportError('ECLOSED', 'netlink socket closed'));
      sock.close();
    },
  };
  return transport;

  function sendRequest(type: number, flags: number, payload: Buffer, opts: NlRequestOptions): Promise<NlMessage[]> {
    if (closed) return Promise.reject(new NlTransportError('ECLOSED', 'netlink socket is closed'));
    seq = (seq + 1) >>> 0 || 1;
    const s = seq;
    return new Promise<NlMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = pending.get(s);
        if (p) settle(s, p, new NlTransportError('ETIMEDOUT', `no answer from the kernel within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      const p: Pending = { dump: opts.dump, replies: [], interrupted: false, resolve, reject, timer };
      pending.set(s, p);
      sock.ref();
      try {
        sock.send(encodeNlMessage({ type, flags, seq: s, pid: 0, payload }), { port: 0 }, (err) => {
          if (err && pending.get(s) === p) settle(s, p, new NlTransportError('ESOCKET', `netlink send: ${err.message}`));
        });
      } catch (err) {
        settle(s, p, new NlTransportError('ESOCKET', `netlink send: ${err instanceof Error ? err.message : String(err)}`));
      }
    });
  }
}
