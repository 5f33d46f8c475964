// RFC 5798 Accept_Mode, pure part: which VIPs must not accept traffic right now, and the nftables ruleset that
// says so. A Master that is not the address owner (priority 255) and has `accept: false` "MUST NOT accept
// packets addressed to" its VIPs (6.4.3). ARP is not IP, so an `inet` table never sees it and it is still
// answered; IPv6 neighbour solicitations and advertisements are let through (the RFC's own exception, the
// address must stay resolvable). Packets from the host itself (lo) are not the router's traffic and pass.
//
// The rules hook `input` before IPVS (LOCAL_IN, priority NF_IP_PRI_NAT_SRC - 2) would see them: on a VIP that a
// virtual server uses, this black-holes the service, which is why `lvskeep check` refuses that combination.
import { isIP } from 'node:net';

export const NFT_TABLE = 'lvskeep';

export interface AcceptModeEntry {
  master: boolean;
  accept: boolean;
  priority: number;
  /** VIP addresses (no prefix). */
  vips: readonly string[];
}

export interface DroppedVips {
  v4: string[];
  v6: string[];
}

/** Whether an instance with these settings ever drops anything (not an owner, not accepting). */
export function enforcesAcceptMode(c: { accept: boolean; priority: number }): boolean {
  return !c.accept && c.priority < 255;
}

/** The VIPs to drop traffic for: those of every non-accepting, non-owner Master. Sorted and unique. */
export function droppedVips(entries: Iterable<AcceptModeEntry>): DroppedVips {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const e of entries) {
    if (!e.master || !enforcesAcceptMode(e)) continue;
    for (const a of e.vips) (isIP(a) === 6 ? v6 : v4).add(a.toLowerCase());
  }
  return { v4: [...v4].sort(), v6: [...v6].sort() };
}

export function sameDropped(a: DroppedVips, b: DroppedVips): boolean {
  return a.v4.join(',') === b.v4.join(',') && a.v6.join(',') === b.v6.join(',');
}

export function isEmpty(d: DroppedVips): boolean {
  return d.v4.length === 0 && d.v6.length === 0;
}

/**
 * An `nft -f` script that replaces the whole `inet lvskeep` table in one transaction (or removes it when nothing
 * is dropped). The leading `table` makes the `delete` valid when the table does not exist yet.
 */
export function nftScript(d: DroppedVips): string {
  const lines = [`table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`];
  if (isEmpty(d)) return `${lines.join('\n')}\n`;
  const elements = (list: string[]): string => (list.length > 0 ? `; elements = { ${list.join(', ')} }` : '');
  lines.push(
    `table inet ${NFT_TABLE} {`,
    `  set vips4 { type ipv4_addr${elements(d.v4)}; }`,
    `  set vips6 { type ipv6_addr${elements(d.v6)}; }`,
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    '    iifname "lo" accept',
    '    ip daddr @vips4 drop',
    '    ip6 daddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept',
    '    ip6 daddr @vips6 drop',
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}
