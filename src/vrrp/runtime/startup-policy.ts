// What `state_hint` and `accept` mean in lvskeep, in one place, so the logs say it where the config sets it.
//
// state_hint (keepalived's `state`): only an address owner (priority 255) claims Master at start-up
// (RFC 5798 6.4.1). Every other instance, whatever its hint or a Master state saved before a restart,
// starts in Backup and listens for one Master_Down_Interval first (keepalived documents the same: "otherwise
// the instance will wait between 3 and 4 advert intervals"), so a restarted director cannot make a second
// master next to a running one. The hint is kept for keepalived compatibility and reported in the logs.
//
// accept (RFC 5798 Accept_Mode): lvskeep always accepts. The VIPs are local addresses of the director and
// IPVS must receive the traffic sent to them (that is the director's job), so dropping packets to the VIPs
// on a non-owner master, as the RFC's default asks, would break every virtual service on them. keepalived
// adds such drop rules (iptables/nftables) with vrrp_strict, which LVS setups avoid for this very reason.
// `accept: false` is therefore not enforced, and the manager says so once in its log.

export const ACCEPT_NOTE = 'accept: false is not enforced: an IPVS director must receive traffic for its VIPs, so lvskeep always accepts (keepalived drops such traffic only under vrrp_strict)';

export function stateHintNote(hint: 'MASTER' | 'BACKUP', priority: number): string {
  if (priority === 255) return 'state_hint: priority 255 (address owner) becomes Master at start-up';
  if (hint === 'MASTER') return 'state_hint MASTER: starting in Backup and listening one Master_Down_Interval before claiming Master (only priority 255 claims at once)';
  return 'state_hint BACKUP: starting in Backup';
}
