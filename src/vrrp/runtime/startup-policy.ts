// What `state_hint` and `accept` mean in lvskeep, in one place, so the logs say it where the config sets it.
//
// state_hint (keepalived's `state`): only an address owner (priority 255) claims Master at start-up
// (RFC 5798 6.4.1). Every other instance, whatever its hint or a Master state saved before a restart,
// starts in Backup and listens for one Master_Down_Interval first (keepalived documents the same: "otherwise
// the instance will wait between 3 and 4 advert intervals"), so a restarted director cannot make a second
// master next to a running one. The hint is kept for keepalived compatibility and reported in the logs.
//
// accept (RFC 5798 Accept_Mode, default true as in keepalived): with `accept: false`, a Master that is not the
// address owner drops traffic to its VIPs (nftables table `inet lvskeep`, see accept-mode.ts), except neighbour
// discovery; ARP is always answered. IPVS sees VIP traffic only after those rules, so `lvskeep check` refuses
// `accept: false` on an instance whose VIP is a virtual server's address (it would black-hole the service).
//
// Reload keeps an unchanged instance running (and its rules); a changed one restarts and re-applies them.

export const ACCEPT_ENFORCED_NOTE = 'accept: false: while Master (not the address owner), traffic to the VIPs is dropped (nftables table inet lvskeep), except ARP and neighbour discovery';

export function stateHintNote(hint: 'MASTER' | 'BACKUP', priority: number): string {
  if (priority === 255) return 'state_hint: priority 255 (address owner) becomes Master at start-up';
  if (hint === 'MASTER') return 'state_hint MASTER: starting in Backup and listening one Master_Down_Interval before claiming Master (only priority 255 claims at once)';
  return 'state_hint BACKUP: starting in Backup';
}
