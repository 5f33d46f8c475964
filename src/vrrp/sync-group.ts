// Sync groups (keepalived's vrrp_sync_group, vrrp_sync.c): the member instances change state together so that,
// for example, the outside VIP and the inside gateway VIP of a NAT director always live on the same router.
// - one member goes to Fault -> every other member goes to Fault, until no member has its own fault any more;
// - one member leaves Master for Backup -> every other Master member goes to Backup (a planned step-down is
//   passed on as a step-down, so every member hands over make-before-break);
// - a member may become Master only when every other member is Master or wants to be (its Master_Down timer
//   expired); until then it is held in Backup with wantsMaster set. When the last one gets there, all go together.
// Pure: takes the member states and one event for one member, returns new states and per-member actions.
import { step, type VrrpAction, type VrrpEvent, type VrrpInstanceState } from './state-machine.js';

export interface SyncGroup {
  name: string;
  members: readonly string[];
}

export interface MemberAction {
  instance: string;
  action: VrrpAction;
}

export interface SyncStepResult {
  states: Record<string, VrrpInstanceState>;
  actions: MemberAction[];
}

function othersReadyForMaster(group: SyncGroup, states: Record<string, VrrpInstanceState>, member: string): boolean {
  return group.members.every((m) => {
    if (m === member) return true;
    const s = states[m];
    return s !== undefined && !s.faulted && !s.syncFaulted && (s.state === 'Master' || s.wantsMaster);
  });
}

export function stepSyncGroup(group: SyncGroup, states: Record<string, VrrpInstanceState>, member: string, event: VrrpEvent, now: number): SyncStepResult {
  const current = states[member];
  if (!current || !group.members.includes(member)) {
    throw new Error(`sync group ${group.name}: "${member}" is not a member (members: ${group.members.join(', ')})`);
  }
  const next: Record<string, VrrpInstanceState> = { ...states };
  const actions: MemberAction[] = [];
  const apply = (name: string, ev: VrrpEvent, mayBecomeMaster: boolean): void => {
    const before = next[name];
    if (!before) return;
    const r = step(before, ev, now, { mayBecomeMaster });
    next[name] = r.state;
    for (const action of r.actions) actions.push({ instance: name, action });
  };

  apply(member, event, othersReadyForMaster(group, next, member));
  const before = current;
  const after = next[member] ?? current;
  const others = group.members.filter((m) => m !== member);
  const reason = `${member} ${before.state} -> ${after.state}`;

  // Fault follows the members' own faults (not their states), so a member that recovers stays down while
  // another member is still faulted.
  if (after.faulted && !before.faulted) {
    for (const m of others) apply(m, { type: 'sync-fault', group: group.name, reason: `${member} is in fault` }, false);
  } else if (before.faulted && !after.faulted && !group.members.some((m) => next[m]?.faulted)) {
    for (const m of group.members) {
      if (next[m]?.syncFaulted) apply(m, { type: 'sync-fault-cleared', group: group.name, reason: `${member} recovered, no member in fault` }, othersReadyForMaster(group, next, m));
    }
  }

  if (after.state === 'Master' && before.state !== 'Master') {
    for (const m of others) if (next[m]?.state === 'Backup') apply(m, { type: 'sync-master', group: group.name, reason }, true);
  } else if (before.state === 'Master' && after.state === 'Backup') {
    if (event.type === 'step-down-requested') {
      // A planned step-down moves the whole group, each member make-before-break (priority 0, VIPs kept until heard).
      for (const m of others) if (next[m]?.state === 'Master') apply(m, { type: 'step-down-requested', reason: `sync group ${group.name}: ${event.reason}` }, false);
    } else {
      for (const m of others) apply(m, { type: 'sync-backup', group: group.name, reason }, false);
    }
  } else if (after.wantsMaster && othersReadyForMaster(group, next, member) && after.state === 'Backup') {
    // Everyone now wants Master (the last holdout was this member): promote the whole group.
    apply(member, { type: 'sync-master', group: group.name, reason: 'all members ready for Master' }, true);
    for (const m of others) if (next[m]?.state === 'Backup') apply(m, { type: 'sync-master', group: group.name, reason: 'all members ready for Master' }, true);
  }
  return { states: next, actions };
}

/** The group's state as keepalived reports it: Fault if any member is, Master only if all are, else Backup. */
export function groupState(group: SyncGroup, states: Record<string, VrrpInstanceState>): 'Fault' | 'Master' | 'Backup' | 'Initialize' {
  const members = group.members.map((m) => states[m]);
  if (members.some((s) => s?.state === 'Fault')) return 'Fault';
  if (members.every((s) => s?.state === 'Master')) return 'Master';
  if (members.every((s) => s?.state === 'Initialize')) return 'Initialize';
  return 'Backup';
}
