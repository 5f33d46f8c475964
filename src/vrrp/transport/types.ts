/** The contract between the VRRP daemon and whatever carries VRRP packets (raw IP or UDP). */

export type IpFamily = 4 | 6;

export interface ReceivedVrrpPacket {
  /** The VRRP packet itself (no IP header), for the codec. */
  bytes: Buffer;
  /** Sender's address, without any %scope suffix. */
  src: string;
  /** Destination address of the datagram; null when the transport cannot know it. */
  dst: string | null;
  /** IPv4 TTL / IPv6 hop limit as received; null when the transport cannot see it (UDP). */
  ttlOrHopLimit: number | null;
  /** Ingress interface index; null when the transport cannot see it (UDP). */
  ifindex: number | null;
}

export type PacketListener = (packet: ReceivedVrrpPacket) => void;

/** Why a received datagram never reached a listener. */
export type DropReason = 'wrong-interface' | 'unknown-peer' | 'malformed' | 'truncated' | 'receive-error' | 'listener-error';

export interface TransportStats {
  received: number;
  delivered: number;
  sent: number;
  sendErrors: number;
  dropped: Record<DropReason, number>;
}

export interface VrrpTransport {
  readonly kind: 'raw' | 'udp';
  /**
   * Send one VRRP packet to `dest`, or when omitted to the configured destinations (the multicast
   * group, or every unicast peer). Rejects with an error naming the interface and destination;
   * when several destinations fail the first error is reported and all are counted.
   */
  send(bytes: Uint8Array, dest?: string): Promise<void>;
  /** Register a listener; returns a function that removes it. Listener exceptions are counted, not thrown. */
  onPacket(listener: PacketListener): () => void;
  stats(): TransportStats;
  /** Stop receiving and release the sockets; safe to call more than once. */
  close(): Promise<void>;
}

export function emptyStats(): TransportStats {
  return {
    received: 0,
    delivered: 0,
    sent: 0,
    sendErrors: 0,
    dropped: { 'wrong-interface': 0, 'unknown-peer': 0, malformed: 0, truncated: 0, 'receive-error': 0, 'listener-error': 0 },
  };
}
