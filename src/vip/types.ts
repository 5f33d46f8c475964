/** Virtual IP addresses held by the VRRP master, and the adapters that put them on an interface. */

export interface Vip {
  address: string;
  /** Prefix length: 0..32 (IPv4) or 0..128 (IPv6). */
  prefix: number;
  /** Interface name, e.g. "eth0". */
  dev: string;
  /** IPv4 only: an `eth0:0`-style label, for tools that still read aliases (ifconfig, some monitoring). */
  label?: string;
}

export interface VipManager {
  readonly kind: 'netlink' | 'iproute2';
  /** Add the address; an address already present is not an error. */
  add(vip: Vip): Promise<void>;
  /** Remove the address; an address already gone is not an error. */
  remove(vip: Vip): Promise<void>;
  /** Every address on the interface (not only ones lvskeep added), IPv4 labels included. */
  list(ifname: string): Promise<Vip[]>;
  close(): Promise<void>;
}

/** A failed VIP operation, naming the VIP and device; `code` is the errno name when one is known. */
export class VipError extends Error {
  readonly code: string;
  constructor(
    readonly operation: 'add' | 'remove' | 'list',
    readonly target: string,
    detail: string,
    code: string | undefined,
    cause?: unknown,
  ) {
    super(`${operation} ${target}: ${detail}`, { cause });
    this.name = 'VipError';
    this.code = code ?? 'EVIP';
  }
}

/** "203.0.113.10/24 on eth0 (label eth0:0)": how errors and logs name a VIP. */
export function describeVip(vip: Vip): string {
  return `${vip.address}/${vip.prefix} on ${vip.dev}${vip.label ? ` (label ${vip.label})` : ''}`;
}
