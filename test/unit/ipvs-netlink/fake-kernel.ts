// Fakes for the two adapters: a raw netlink socket whose "kernel" end the test drives by hand, and an
// NlTransport that answers IPVS requests from a script.
import { EventEmitter } from 'node:events';
import { NlMsgType } from '../../../src/ipvs/netlink/constants.js';
import { encodeNlMessage, parseNlMessages, type NlMessage } from '../../../src/ipvs/netlink/framing.js';
import type { NlRequestOptions, NlTransport, RawSocketLike } from '../../../src/ipvs/netlink/nl-socket.js';

export class FakeRawSocket extends EventEmitter implements RawSocketLike {
  readonly sent: NlMessage[] = [];
  refs = 0;
  closed = false;
  sendError: Error | undefined;

  send(msg: Uint8Array, _options: { port: number }, callback: (error?: Error) => void): void {
    this.sent.push(...parseNlMessages(Buffer.from(msg), 'fake send'));
    const err = this.sendError;
    queueMicrotask(() => callback(err));
  }
  ref(): void {
    this.refs++;
  }
  unref(): void {
    this.refs = 0;
  }
  close(): void {
    this.closed = true;
  }
  /** Deliver one datagram made of these messages. */
  deliver(...msgs: NlMessage[]): void {
    this.emit('message', Buffer.concat(msgs.map(encodeNlMessage)));
  }
  lastSeq(): number {
    const m = this.sent[this.sent.length - 1];
    if (!m) throw new Error('nothing sent');
    return m.seq;
  }
}

export function errorMsg(seq: number, errno: number, extra: Buffer = Buffer.alloc(16), flags = 0): NlMessage {
  const body = Buffer.alloc(4);
  body.writeInt32LE(-errno, 0);
  return { type: NlMsgType.ERROR, flags, seq, pid: 0, payload: Buffer.concat([body, extra]) };
}

export function doneMsg(seq: number, errno = 0): NlMessage {
  const body = Buffer.alloc(4);
  body.writeInt32LE(-errno, 0);
  return { type: NlMsgType.DONE, flags: 0x2, seq, pid: 0, payload: body };
}

export interface SentRequest {
  type: number;
  flags: number;
  payload: Buffer;
  opts: NlRequestOptions;
}

/** An NlTransport whose answers come from `answer`; it records every request. */
export class ScriptedTransport implements NlTransport {
  readonly requests: SentRequest[] = [];
  closed = false;
  constructor(private readonly answer: (req: SentRequest, index: number) => Promise<NlMessage[]> | NlMessage[]) {}

  async request(type: number, flags: number, payload: Buffer, opts: NlRequestOptions): Promise<NlMessage[]> {
    const req = { type, flags, payload, opts };
    this.requests.push(req);
    return this.answer(req, this.requests.length - 1);
  }
  close(): void {
    this.closed = true;
  }
}
