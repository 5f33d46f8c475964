/**
 * Netlink and generic netlink message framing, pure: struct nlmsghdr (16 bytes), struct genlmsghdr
 * (4 bytes), NLMSG_ERROR and NLMSG_DONE bodies. All host byte order (little endian on the targets we run on).
 */
import { GENL_HDRLEN, NLMSGERR_ATTR_MSG, NLMSG_HDRLEN, NlFlag } from './constants.js';
import { NlaError, parseNlas } from './nla.js';

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function encodeNlMessage(m: NlMessage): Buffer {
  const len = NLMSG_HDRLEN + m.payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(m.type, 4);
  out.writeUInt16LE(m.flags, 6);
  out.writeUInt32LE(m.seq >>> 0, 8);
  out.writeUInt32LE(m.pid >>> 0, 12);
  out.set(m.payload, NLMSG_HDRLEN);
  return out;
}

/** Splits one received datagram into messages; throws NlaError naming `where` when a length is impossible. */
export function parseNlMessages(buf: Buffer, where: string): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new NlaError(`${where}: message at offset ${off} has length ${len}, ${buf.length - off} bytes left`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** genlmsghdr { u8 cmd; u8 version; u16 reserved } followed by attributes. */
export function genlPayload(cmd: number, version: number, attrs: readonly Buffer[]): Buffer {
  const hdr = Buffer.alloc(GENL_HDRLEN);
  hdr.writeUInt8(cmd, 0);
  hdr.writeUInt8(version, 1);
  return Buffer.concat([hdr, ...attrs]);
}

export function parseGenl(payload: Buffer, where: string): { cmd: number; version: number; attrs: Buffer } {
  if (payload.length < GENL_HDRLEN) throw new NlaError(`${where}: generic netlink payload of ${payload.length} bytes has no genl header`);
  return { cmd: payload.readUInt8(0), version: payload.readUInt8(1), attrs: payload.subarray(GENL_HDRLEN) };
}

export interface NlErrorBody {
  /** Positive errno; 0 is an ACK. */
  errno: number;
  /** Extended ack text (NLMSGERR_ATTR_MSG) when the kernel sent one. */
  message?: string;
}

/**
 * NLMSG_ERROR body: s32 error (negative errno), the echoed request (its header only when NLM_F_CAPPED),
 * then extended ack attributes when NLM_F_ACK_TLVS is set.
 */
export function parseNlError(m: NlMessage, where: string): NlErrorBody {
  if (m.payload.length < 4) throw new NlaError(`${where}: NLMSG_ERROR of ${m.payload.length} bytes`);
  const errno = -m.payload.readInt32LE(0);
  const body: NlErrorBody = { errno };
  if (m.flags & NlFlag.ACK_TLVS && m.payload.length >= 4 + NLMSG_HDRLEN) {
    const echoedLen = m.payload.readUInt32LE(4);
    const tlvStart = 4 + (m.flags & NlFlag.CAPPED ? NLMSG_HDRLEN : align4(echoedLen));
    if (tlvStart <= m.payload.length) {
      const tlv = parseNlas(m.payload.subarray(tlvStart), `${where} extended ack`).find((a) => a.type === NLMSGERR_ATTR_MSG);
      if (tlv) body.message = tlv.value.toString('utf8').replace(/\0+$/, '');
    }
  }
  return body;
}

/** NLMSG_DONE carries the dump's final status as an s32 (0, or a negative errno when the dump failed). */
export function parseDoneErrno(m: NlMessage): number {
  return m.payload.length >= 4 ? -m.payload.readInt32LE(0) : 0;
}
