/**
 * Pure builders of the link-layer frames that tell a LAN a VIP has moved: a gratuitous ARP for IPv4
 * and an unsolicited neighbour advertisement for IPv6. Byte layouts: RFC 826 / RFC 5227 (ARP
 * announcement) and RFC 4861 4.4 / 7.2.6 (NA), checksum per RFC 4443 2.3.
 */
import { ipv4Bytes, ipv6Bytes } from './ip-bytes.js';

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** ff02::1 (all nodes) and its Ethernet mapping 33:33 + low 32 bits (RFC 2464 7). */
const ALL_NODES = ipv6Bytes('ff02::1');
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]);
/** Shortest Ethernet frame without FCS; shorter frames are padded here rather than trusting the driver. */
const MIN_FRAME = 60;

function checkMac(mac: Uint8Array): Buffer {
  if (mac.length !== 6) throw new Error(`MAC address must be 6 bytes, got ${mac.length}`);
  if ((mac[0] ?? 0) & 1) throw new Error('MAC address is a multicast address; announcements need the interface unicast MAC');
  return Buffer.from(mac);
}

function ethernetHeader(dst: Buffer, src: Buffer, ethertype: number): Buffer {
  const h = Buffer.alloc(14);
  dst.copy(h, 0);
  src.copy(h, 6);
  h.writeUInt16BE(ethertype, 12);
  return h;
}

/** RFC 1071 one's complement sum over 16-bit words (odd length padded with a zero byte). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Gratuitous ARP as an ARP announcement (RFC 5227 2.3): a broadcast request whose sender and target
 * protocol addresses are both the VIP. Target hardware address is zero, as RFC 5227 asks; receivers
 * update an existing cache entry for the VIP from the sender fields.
 */
export function buildGratuitousArp(mac: Uint8Array, vip: string): Buffer {
  const src = checkMac(mac);
  const ip = ipv4Bytes(vip);
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // hardware type: Ethernet
  arp.writeUInt16BE(0x0800, 2); // protocol type: IPv4
  arp.writeUInt8(6, 4); // hardware address length
  arp.writeUInt8(4, 5); // protocol address length
  arp.writeUInt16BE(1, 6); // operation: request
  src.copy(arp, 8); // sender hardware address
  ip.copy(arp, 14); // sender protocol address
  // bytes 18..23: target hardware address, zero
  ip.copy(arp, 24); // target protocol address
  const frame = Buffer.concat([ethernetHeader(BROADCAST_MAC, src, ETHERTYPE_ARP), arp]);
  return frame.length < MIN_FRAME ? Buffer.concat([frame, Buffer.alloc(MIN_FRAME - frame.length)]) : frame;
}

export interface NeighborAdvertOptions {
  /** Set the Router flag (the director forwards IPv6 traffic for this address). Default false. */
  router?: boolean;
}

/**
 * Unsolicited neighbour advertisement (RFC 4861 7.2.6): from the VIP to ff02::1, hop limit 255,
 * Solicited flag clear, Override flag set (replace cached link-layer addresses), with the Target
 * Link-Layer Address option carrying our MAC.
 */
export function buildUnsolicitedNeighborAdvert(mac: Uint8Array, vip: string, opts: NeighborAdvertOptions = {}): Buffer {
  const src = checkMac(mac);
  const target = ipv6Bytes(vip);
  const icmp = Buffer.alloc(32);
  icmp.writeUInt8(136, 0); // type: neighbour advertisement
  icmp.writeUInt8(0, 1); // code
  // bytes 2..3: checksum, filled below
  icmp.writeUInt8((opts.router ? 0x80 : 0) | 0x20, 4); // R flag, S=0, O=1
  target.copy(icmp, 8);
  icmp.writeUInt8(2, 24); // option: target link-layer address
  icmp.writeUInt8(1, 25); // option length in units of 8 bytes
  src.copy(icmp, 26);

  const pseudo = Buffer.alloc(40);
  target.copy(pseudo, 0); // source address = the VIP
  ALL_NODES.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32); // upper-layer packet length
  pseudo.writeUInt8(58, 39); // next header: ICMPv6
  icmp.writeUInt16BE(internetChecksum(pseudo, icmp), 2);

  const ip6 = Buffer.alloc(40);
  ip6.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  ip6.writeUInt16BE(icmp.length, 4); // payload length
  ip6.writeUInt8(58, 6); // next header
  ip6.writeUInt8(255, 7); // hop limit: receivers drop ND with any other value
  target.copy(ip6, 8);
  ALL_NODES.copy(ip6, 24);
  return Buffer.concat([ethernetHeader(ALL_NODES_MAC, src, ETHERTYPE_IPV6), ip6, icmp]);
}
