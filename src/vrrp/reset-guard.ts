// Reset guard, pure part. Right after a director becomes master, clients of connections the old master carried
// still send to the VIPs; until the hand-over (runtime/conn-handover.ts) has put those connections in this
// director's IPVS table, the packets reach its own TCP stack, which answers with a reset, and the request fails.
// The guard drops TCP resets leaving from the VIPs, so the client retransmits instead (200 ms and later) and
// finds its connection known. It is up while the instance is BACKUP or FAULT (the VIPs are not local then, so it
// costs nothing and is already in place at the takeover) and for `lvs_sync.reset_grace` after becoming MASTER.
// The rules are tc flower filters on the egress of each VIP's interface (clsact): tc classifiers exist in kernels
// that lack parts of nftables, such as the lab's user-mode kernel.
import { parseIp } from '../net/ip.js';

/** Filter priorities of the guard's tc filters, one per address family (a tc priority holds one protocol). */
export const GUARD_PREF = { 4: 4646, 6: 4647 } as const;

/** A VIP on its interface (the VRRP Vip type fits). */
export interface GuardedVip {
  address: string;
  dev: string;
}

export const guardKey = (v: GuardedVip): string => `${v.dev} ${v.address}`;

function parsed(v: GuardedVip): { family: 4 | 6; bytes: Uint8Array } {
  const p = parseIp(v.address);
  if (!p) throw new RangeError(`reset guard: "${v.address}" is not an IP address`);
  return p;
}

/** A stable, non-zero 32-bit filter handle per address: the address itself for IPv4, a hash for IPv6. */
export function guardHandle(v: GuardedVip): number {
  const p = parsed(v);
  if (p.family === 4) return Buffer.from(p.bytes).readUInt32BE(0) || 1;
  let h = 0x811c9dc5; // FNV-1a
  for (const b of p.bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h || 1;
}

/** The union of what the instances ask for, without duplicates, in a stable order. */
export function guardedUnion(lists: Iterable<readonly GuardedVip[]>): GuardedVip[] {
  const out = new Map<string, GuardedVip>();
  for (const list of lists) for (const v of list) out.set(guardKey(v), v);
  return [...out.values()].sort((a, b) => guardKey(a).localeCompare(guardKey(b)));
}

function filterId(v: GuardedVip): string[] {
  const family = parsed(v).family;
  return ['dev', v.dev, 'egress', 'pref', String(GUARD_PREF[family]), 'handle', `0x${guardHandle(v).toString(16)}`, 'protocol', family === 4 ? 'ip' : 'ipv6', 'flower'];
}

/** `tc -batch` lines that take the kernel from `installed` to `wanted`: removals, then additions. */
export function tcGuardBatches(installed: readonly GuardedVip[], wanted: readonly GuardedVip[]): { remove: string[]; add: string[] } {
  const want = new Set(wanted.map(guardKey));
  const have = new Set(installed.map(guardKey));
  const remove = installed.filter((v) => !want.has(guardKey(v))).map((v) => ['filter', 'del', ...filterId(v)].join(' '));
  const added = wanted.filter((v) => !have.has(guardKey(v)));
  const devs = [...new Set(added.map((v) => v.dev))];
  const add = [
    // clsact is idempotent with `replace` and leaves other filters alone; it hooks egress without a root qdisc change.
    ...devs.map((d) => `qdisc replace dev ${d} clsact`),
    ...added.map((v) => ['filter', 'replace', ...filterId(v), 'ip_proto', 'tcp', 'src_ip', v.address, 'tcp_flags', '0x4/0x4', 'action', 'drop'].join(' ')),
  ];
  return { remove, add };
}

/** Lines that remove every guard filter on these interfaces (leftovers of a run that did not stop cleanly). */
export function tcGuardCleanup(devs: readonly string[]): string[] {
  return [...new Set(devs)].flatMap((d) => [4, 6].map((f) => `filter del dev ${d} egress pref ${GUARD_PREF[f as 4 | 6]}`));
}
