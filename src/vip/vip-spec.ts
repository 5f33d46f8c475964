/** Pure checks on a VIP before any adapter touches the kernel, so both adapters reject the same things. */
import { isIP } from 'node:net';

import { describeVip, type Vip } from './types.js';

const IFNAME = /^[^\s/:]{1,15}$/;

/** Throws an Error naming the field; returns the VIP unchanged when valid. */
export function validateVip(vip: Vip): Vip {
  const family = isIP(vip.address);
  const where = `VIP ${vip.address}/${vip.prefix} on ${vip.dev}`;
  if (family === 0) throw new Error(`${where}: address ${JSON.stringify(vip.address)} is not an IP address`);
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(vip.prefix) || vip.prefix < 0 || vip.prefix > max) throw new Error(`${where}: prefix must be an integer 0..${max}`);
  if (!IFNAME.test(vip.dev)) throw new Error(`${where}: dev ${JSON.stringify(vip.dev)} is not an interface name`);
  if (vip.label !== undefined) {
    // The kernel stores labels for IPv4 only; iproute2 tradition requires the "dev:" prefix.
    if (family !== 4) throw new Error(`${where}: label ${JSON.stringify(vip.label)} given, but labels exist for IPv4 only`);
    if (vip.label.length > 15) throw new Error(`${where}: label ${JSON.stringify(vip.label)} is longer than 15 bytes`);
    if (!vip.label.startsWith(vip.dev) || /\s/.test(vip.label)) throw new Error(`${where}: label ${JSON.stringify(vip.label)} must start with the device name ${vip.dev}`);
  }
  return vip;
}

export function vipFamily(vip: Vip): 4 | 6 {
  return isIP(vip.address) === 6 ? 6 : 4;
}

/** Identity of a VIP for set membership: address, prefix and device (the label is decoration). */
export function vipKey(vip: Vip): string {
  return `${vip.dev}|${vip.address.toLowerCase()}/${vip.prefix}`;
}

export { describeVip };
