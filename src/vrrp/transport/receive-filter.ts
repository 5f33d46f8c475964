/** Pure decision on one raw datagram: hand it to the VRRP layer, or drop it with a counted reason. */
import type { NativePacket } from './native.js';
import type { DropReason, ReceivedVrrpPacket } from './types.js';

export type FilterResult = { accept: ReceivedVrrpPacket } | { drop: DropReason; detail: string };

/**
 * TTL / hop limit is passed through, not judged here: RFC 5798 makes that check part of VRRP
 * receive processing, and the state machine counts it with the other protocol errors.
 */
export function filterNativePacket(packet: NativePacket, expectedIfindex: number, allowedSources?: ReadonlySet<string>): FilterResult {
  if (packet.malformed !== undefined) return { drop: 'malformed', detail: `from ${packet.src || '?'}: ${packet.malformed}` };
  if (packet.truncated) return { drop: 'truncated', detail: `from ${packet.src}: datagram larger than the receive buffer` };
  // SO_BINDTODEVICE already restricts delivery; this guards against a socket shared across a VRF or a rebind race.
  if (packet.ifindex !== 0 && packet.ifindex !== expectedIfindex) {
    return { drop: 'wrong-interface', detail: `from ${packet.src}: arrived on ifindex ${packet.ifindex}, expected ${expectedIfindex}` };
  }
  // Unicast mode: the socket sees every proto-112 datagram on the link; only configured peers count.
  if (allowedSources !== undefined && !allowedSources.has(packet.src)) {
    return { drop: 'unknown-peer', detail: `from ${packet.src}: not a configured unicast peer` };
  }
  return {
    accept: {
      bytes: packet.payload,
      src: packet.src,
      dst: packet.dst === '' ? null : packet.dst,
      ttlOrHopLimit: packet.ttl < 0 ? null : packet.ttl,
      ifindex: packet.ifindex === 0 ? null : packet.ifindex,
    },
  };
}
