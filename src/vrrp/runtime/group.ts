// Runs a sync group (the pure core in ../sync-group.ts) over live instances: every member's events go through
// stepSyncGroup, and the per-member actions it returns are handed to each member in order.
import type { Logger } from '../../log/logger.js';
import { groupState, stepSyncGroup, type SyncGroup } from '../sync-group.js';
import type { VrrpAction, VrrpEvent, VrrpInstanceState } from '../state-machine.js';
import type { RuntimeTimers } from './timers.js';
import { realRuntimeTimers } from './timers.js';
import type { StepCoordinator, VrrpInstance } from './instance.js';

export class VrrpSyncGroupRunner implements StepCoordinator {
  private readonly members = new Map<string, VrrpInstance>();
  /** Events raised by a member while an earlier one is being applied wait here, so steps never interleave. */
  private readonly queue: { member: string; event: VrrpEvent }[] = [];
  private running = false;

  constructor(
    readonly group: SyncGroup,
    instances: readonly VrrpInstance[],
    private readonly logger: Logger,
    private readonly timers: RuntimeTimers = realRuntimeTimers,
  ) {
    for (const name of group.members) {
      const inst = instances.find((i) => i.name === name);
      if (!inst) throw new Error(`sync group ${group.name}: member "${name}" is not a running VRRP instance`);
      this.members.set(name, inst);
    }
    for (const inst of this.members.values()) inst.attachCoordinator(this);
  }

  /** The member instances, in the group's order. */
  instances(): VrrpInstance[] {
    return [...this.members.values()];
  }

  detach(): void {
    for (const inst of this.members.values()) inst.attachCoordinator(undefined);
  }

  state(): ReturnType<typeof groupState> {
    return groupState(this.group, this.states());
  }

  dispatch(member: string, event: VrrpEvent): void {
    if (this.queue.length > 10_000) {
      this.logger.error({ group: this.group.name, member, event: event.type }, 'sync group event queue full; event dropped');
      return;
    }
    this.queue.push({ member, event });
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.stepOne(next.member, next.event);
    } finally {
      this.running = false;
    }
  }

  private states(): Record<string, VrrpInstanceState> {
    const out: Record<string, VrrpInstanceState> = {};
    for (const [name, inst] of this.members) out[name] = inst.state;
    return out;
  }

  private stepOne(member: string, event: VrrpEvent): void {
    const r = stepSyncGroup(this.group, this.states(), member, event, this.timers.now());
    const perMember = new Map<string, VrrpAction[]>();
    for (const { instance, action } of r.actions) {
      const list = perMember.get(instance) ?? [];
      list.push(action);
      perMember.set(instance, list);
    }
    for (const [name, inst] of this.members) {
      const next = r.states[name];
      if (next && (next !== inst.state || perMember.has(name))) inst.apply(next, perMember.get(name) ?? []);
    }
  }
}
