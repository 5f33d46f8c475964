// One running VRRP instance: the adapter around the pure state machine. It owns the instance's transport,
// its timers and its VIPs; it turns received packets, timer expiries and tracking changes into state-machine
// events and carries the resulting actions out in order (I/O through one serial queue, so "add VIPs, then send
// the first advert" really happens in that order). A sync group may take over the stepping (see group.ts).
import type { EventBus } from '../../events/bus.js';
import { createEvent, type LvsEvent, type VrrpState } from '../../events/types.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { scheduleAnnouncements, type AnnouncementRun, type AnnouncementSender } from '../../vip/announce.js';
import { describeVip, type Vip, type VipManager } from '../../vip/types.js';
import { advertFields, receiveAdvert, type ReplayState } from '../advert-pipeline.js';
import { encodeAdvert, type DropReason } from '../codec.js';
import { initialCounter } from '../hmac-trailer.js';
import { initialState, step, type VrrpAction, type VrrpEvent, type VrrpInstanceState, type VrrpStateName } from '../state-machine.js';
import { effectivePriority, trackingEvents, type PriorityResult, type TrackedKind, type TrackedObject } from '../tracking.js';
import type { ReceivedVrrpPacket, VrrpTransport } from '../transport/types.js';
import type { InstanceSpec } from './spec.js';
import { LatenessMeter, realRuntimeTimers, withTimeout, type LatenessStats, type RuntimeTimers } from './timers.js';

/** Whoever steps the state machine: the instance itself, or its sync group. */
export interface StepCoordinator {
  dispatch(member: string, event: VrrpEvent): void;
}

export interface VrrpInstanceDeps {
  transport: VrrpTransport;
  vips: VipManager;
  announcer: AnnouncementSender;
  logger: Logger;
  bus?: EventBus<LvsEvent>;
  timers?: RuntimeTimers;
  /** Wall clock for status and events (ms since the epoch). */
  wallClock?: () => number;
  /** Tracked objects besides the instance's own interface (which always faults the instance while down). */
  tracked?: readonly TrackedObject[];
  /** Limit for one VIP add/remove (a hung netlink request must not freeze the instance). */
  vipTimeoutMs?: number;
  /** Called on every state change, after the event is emitted (notify scripts hang off this). */
  onStateChange?: (change: { instance: string; from: VrrpState; to: VrrpState; priority: number; reason: string }) => void;
}

export interface VrrpInstanceStatus {
  name: string;
  state: VrrpStateName;
  basePriority: number;
  effectivePriority: number;
  /** Our address while Master, else the master we last heard (undefined when none). */
  masterAddress?: string;
  holdingVips: boolean;
  faultReasons: string[];
  lastChange: { at: number; reason: string };
  counters: {
    advertsSent: number;
    advertsReceived: number;
    sendErrors: number;
    vipErrors: number;
    drops: Partial<Record<DropReason | 'queue-full', number>>;
  };
  timerLateness: LatenessStats;
}

const STATE_NAMES: Record<VrrpStateName, VrrpState> = { Initialize: 'INIT', Backup: 'BACKUP', Master: 'MASTER', Fault: 'FAULT' };
/** More pending I/O than this means the instance is wedged; new work is dropped and counted, not queued forever. */
const MAX_PENDING_IO = 1000;

function trackKey(kind: TrackedKind, name: string): string {
  return `${kind}:${name}`;
}


export class VrrpInstance {
  readonly name: string;
  private st: VrrpInstanceState;
  private readonly timers: RuntimeTimers;
  private readonly wallClock: () => number;
  private readonly handles = new Map<string, { handle: unknown; at: number }>();
  private readonly lateness = new LatenessMeter();
  private readonly tracked = new Map<string, TrackedObject>();
  private tracking: PriorityResult | undefined;
  private coordinator: StepCoordinator | undefined;
  private replay: ReplayState = new Map();
  private hmacCounter: bigint;
  private io: Promise<void> = Promise.resolve();
  private pendingIo = 0;
  private announcement: AnnouncementRun | undefined;
  /** One-off re-announcement bursts (split brain); stopped with the VIPs. */
  private extraAnnouncements = new Set<AnnouncementRun>();
  private unsubscribe: (() => void) | undefined;
  private lastChange: { at: number; reason: string };
  private splitBrainPeer: { src: string; lastSeen: number } | undefined;
  private started = false;
  private stopped = false;
  private readonly counters: VrrpInstanceStatus['counters'] = { advertsSent: 0, advertsReceived: 0, sendErrors: 0, vipErrors: 0, drops: {} };
  private stepDownWaiters: (() => void)[] = [];

  constructor(
    readonly spec: InstanceSpec,
    private readonly deps: VrrpInstanceDeps,
  ) {
    this.name = spec.name;
    this.timers = deps.timers ?? realRuntimeTimers;
    this.wallClock = deps.wallClock ?? Date.now;
    this.st = initialState(spec.machine, this.timers.now());
    this.hmacCounter = initialCounter(this.wallClock());
    this.lastChange = { at: this.wallClock(), reason: 'not started' };
    // Our own interface: keepalived puts an instance whose interface is down into FAULT.
    this.tracked.set(trackKey('interface', spec.interface), { kind: 'interface', name: spec.interface, weight: 0, up: true });
    for (const o of deps.tracked ?? []) this.tracked.set(trackKey(o.kind, o.name), { ...o });
  }

  get state(): VrrpInstanceState {
    return this.st;
  }

  /** Let a sync group step this instance (undefined: step locally). */
  attachCoordinator(c: StepCoordinator | undefined): void {
    this.coordinator = c;
  }

  /**
   * Remove VIPs a crashed predecessor may have left, start listening, apply the tracked objects' current
   * state, then step `startup`.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error(`VRRP instance ${this.name}: start() called twice`);
    this.started = true;
    for (const vip of this.spec.vips) await this.vipOp('remove', vip, 'stale VIP from an earlier run');
    this.unsubscribe = this.deps.transport.onPacket((p) => this.onPacket(p));
    this.applyTracking();
    this.dispatch({ type: 'startup' });
  }

  /** Feed new up/down states of tracked objects (interfaces, pools, scripts); unknown objects are added. */
  setTrackedState(updates: readonly { kind: TrackedKind; name: string; up: boolean; weight?: number; reverse?: boolean }[]): void {
    for (const u of updates) {
      const key = trackKey(u.kind, u.name);
      const prev = this.tracked.get(key);
      const next: TrackedObject = { kind: u.kind, name: u.name, up: u.up, weight: u.weight ?? prev?.weight ?? 0 };
      const reverse = u.reverse ?? prev?.reverse;
      if (reverse !== undefined) next.reverse = reverse;
      this.tracked.set(key, next);
    }
    if (this.started && !this.stopped) this.applyTracking();
  }

  trackedObjects(): TrackedObject[] {
    return [...this.tracked.values()].map((o) => ({ ...o }));
  }

  /** Planned hand-over: priority 0, VIPs kept until the new master is heard (or the hold time ends). */
  stepDown(reason = 'operator request'): void {
    this.dispatch({ type: 'step-down-requested', reason });
  }

  /** Undo the nopreempt behaviour a step-down leaves behind. */
  resumePreemption(reason = 'operator request'): void {
    this.dispatch({ type: 'preempt-resume', reason });
  }

  /**
   * Resolves when the I/O queued so far (VIP adds/removes, announcement scheduling, adverts) is done; never
   * rejects. The manager starts sync-daemon changes only after it, so they never come between VIP changes.
   */
  whenIoIdle(): Promise<void> {
    return this.io;
  }

  /** Resolves once no step-down is in progress (VIPs released or never held that way). */
  whenStepDownDone(): Promise<void> {
    if (!(this.st.state === 'Backup' && this.st.holdingVips)) return Promise.resolve();
    return new Promise((resolve) => this.stepDownWaiters.push(resolve));
  }

  /**
   * Planned stop: a master steps down make-before-break (priority 0, keep the VIPs until the new master
   * announces, bounded by the core's step-down hold), then the instance shuts down and releases everything.
   * `handover: false` skips the wait (a sync group already stepped every member down).
   */
  async stop(opts: { handover?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    if (this.started && (opts.handover ?? true) && this.st.state === 'Master') {
      this.stepDown('stopping');
    }
    await this.whenStepDownDone();
    this.dispatch({ type: 'shutdown' });
    this.stopped = true;
    for (const h of this.handles.values()) this.timers.clearTimeout(h.handle);
    this.handles.clear();
    this.stopAnnouncements();
    this.unsubscribe?.();
    await this.io;
    await this.deps.transport.close();
  }

  status(): VrrpInstanceStatus {
    const s = this.st;
    const status: VrrpInstanceStatus = {
      name: this.name,
      state: s.state,
      basePriority: s.config.priority,
      effectivePriority: s.priority,
      holdingVips: s.holdingVips,
      faultReasons: this.tracking?.faultReasons ?? [],
      lastChange: { ...this.lastChange },
      counters: { ...this.counters, drops: { ...this.counters.drops } },
      timerLateness: this.lateness.stats(),
    };
    const master = s.state === 'Master' ? s.config.primaryAddress : s.master?.src;
    if (master !== undefined) status.masterAddress = master;
    return status;
  }

  /** Step the machine, locally or through the sync group. */
  dispatch(event: VrrpEvent): void {
    if (this.stopped) return;
    if (this.coordinator) {
      this.coordinator.dispatch(this.name, event);
      return;
    }
    const r = step(this.st, event, this.timers.now());
    this.apply(r.state, r.actions);
  }

  /** Take a new state and carry out its actions (called by dispatch or by the sync group). */
  apply(next: VrrpInstanceState, actions: readonly VrrpAction[]): void {
    const before = this.st;
    this.st = next;
    // A stopped member of a sync group may still be stepped by the group: nothing of it may touch the world.
    if (this.stopped) return;
    for (const a of actions) this.perform(a, before);
    if (before.state === 'Master' && next.state !== 'Master') this.clearSplitBrain('left Master');
    if (!(next.state === 'Backup' && next.holdingVips) && this.stepDownWaiters.length > 0) {
      const waiters = this.stepDownWaiters;
      this.stepDownWaiters = [];
      for (const w of waiters) w();
    }
  }

  private perform(a: VrrpAction, before: VrrpInstanceState): void {
    switch (a.type) {
      case 'set-timer':
        this.armTimer(a.timer, a.at);
        return;
      case 'cancel-timer': {
        const h = this.handles.get(a.timer);
        if (h) this.timers.clearTimeout(h.handle);
        this.handles.delete(a.timer);
        return;
      }
      case 'log':
        if (a.level === 'warn') this.deps.logger.warn({ instance: this.name }, a.message);
        else this.deps.logger.info({ instance: this.name }, a.message);
        return;
      case 'send-advert': {
        const priority = a.priority;
        this.enqueue('send advert', () => this.sendAdvert(priority));
        return;
      }
      case 'become-master':
        this.noteChange(before.state, 'Master', a.reason);
        if (!a.vipsHeld) this.enqueue('add VIPs', () => this.addVips());
        this.enqueue('announce VIPs', () => Promise.resolve(this.announce(false)));
        return;
      case 'become-backup':
      case 'become-fault':
      case 'become-initialize': {
        const to: VrrpStateName = a.type === 'become-backup' ? 'Backup' : a.type === 'become-fault' ? 'Fault' : 'Initialize';
        this.noteChange(before.state, to, a.reason);
        if (a.releaseVips) this.enqueue('remove VIPs', () => this.removeVips(a.reason));
        return;
      }
      case 'release-vips':
        this.deps.logger.info({ instance: this.name, reason: a.reason }, 'releasing VIPs');
        this.enqueue('remove VIPs', () => this.removeVips(a.reason));
        return;
      case 'announce-vips':
        this.enqueue('re-announce VIPs', () => Promise.resolve(this.announce(true)));
        return;
    }
  }

  private armTimer(timer: string, at: number): void {
    const old = this.handles.get(timer);
    if (old) this.timers.clearTimeout(old.handle);
    const fire = (): void => {
      const cur = this.handles.get(timer);
      if (!cur || cur.at !== at) return;
      const now = this.timers.now();
      // Node timers are millisecond-granular and may run a fraction early against performance.now().
      if (now < at) {
        cur.handle = this.timers.setTimeout(fire, Math.ceil(at - now));
        return;
      }
      this.handles.delete(timer);
      this.lateness.record(now - at);
      // Half an advert interval late is how a busy event loop turns into a spurious failover: say so.
      if (now - at > this.st.config.intervalCs * 5) {
        this.deps.logger.warn({ instance: this.name, timer, lateMs: Math.round(now - at) }, 'VRRP timer fired late (event loop blocked?)');
      }
      this.onTimer(timer, now);
    };
    const delay = Math.max(0, Math.ceil(at - this.timers.now()));
    this.handles.set(timer, { handle: this.timers.setTimeout(fire, delay), at });
  }

  private onTimer(timer: string, now: number): void {
    if (timer === 'advert') {
      this.checkSplitBrainCleared(now);
      this.dispatch({ type: 'advert-timer-fired' });
    } else if (timer === 'master-down') this.dispatch({ type: 'master-down-timer-fired' });
    else if (timer === 'step-down') this.dispatch({ type: 'step-down-timer-fired' });
  }

  private onPacket(p: ReceivedVrrpPacket): void {
    if (this.stopped) return;
    const m = this.st.config;
    const unicast = this.spec.receive.unicastPeers !== undefined;
    const dst = p.dst ?? (unicast ? m.primaryAddress : this.spec.destinations[0] ?? m.primaryAddress);
    const meta = { family: m.family, src: p.src, dst, ttl: p.ttlOrHopLimit ?? undefined };
    const r = receiveAdvert(p.bytes, meta, m, this.spec.receive, this.replay);
    this.replay = r.replay;
    if (!r.ok) {
      this.counters.drops[r.reason] = (this.counters.drops[r.reason] ?? 0) + 1;
      this.deps.logger.debug({ instance: this.name, src: p.src, reason: r.reason, detail: r.detail }, 'VRRP advert dropped');
      return;
    }
    this.counters.advertsReceived++;
    const wasMaster = this.st.state === 'Master';
    this.dispatch(r.event);
    // A lower-priority router that also claims Master: the core answered; we report the split brain.
    if (wasMaster && this.st.state === 'Master' && r.event.priority !== 0 && p.src !== m.primaryAddress) this.noteSplitBrain(p.src);
  }

  private noteSplitBrain(src: string): void {
    const now = this.timers.now();
    if (this.splitBrainPeer?.src === src) {
      this.splitBrainPeer.lastSeen = now;
      return;
    }
    this.splitBrainPeer = { src, lastSeen: now };
    this.deps.logger.warn({ instance: this.name, peer: src }, 'split brain: another router claims Master for our VRID');
    this.emit({ type: 'vrrp.split_brain', instance: this.name, peer: src, cleared: false });
  }

  private checkSplitBrainCleared(now: number): void {
    const sb = this.splitBrainPeer;
    // Three of our intervals without its adverts: it has given up.
    if (sb && now - sb.lastSeen > 3 * this.st.config.intervalCs * 10) this.clearSplitBrain('peer silent');
  }

  private clearSplitBrain(why: string): void {
    const sb = this.splitBrainPeer;
    if (!sb) return;
    this.splitBrainPeer = undefined;
    this.deps.logger.info({ instance: this.name, peer: sb.src, why }, 'split brain cleared');
    this.emit({ type: 'vrrp.split_brain', instance: this.name, peer: sb.src, cleared: true });
  }

  private noteChange(from: VrrpStateName, to: VrrpStateName, reason: string): void {
    this.lastChange = { at: this.wallClock(), reason };
    this.deps.logger.info({ instance: this.name, from, to, reason, priority: this.st.priority }, `VRRP ${this.name}: ${from} -> ${to}`);
    const change = { instance: this.name, from: STATE_NAMES[from], to: STATE_NAMES[to], reason, priority: this.st.priority };
    this.emit({ type: 'vrrp.state', ...change });
    try {
      this.deps.onStateChange?.(change);
    } catch (err) {
      this.deps.logger.error({ instance: this.name, err: errorMessage(err) }, 'state-change hook failed');
    }
  }

  private emit(body: Parameters<typeof createEvent>[0]): void {
    this.deps.bus?.emit(createEvent(body, this.wallClock()));
  }

  private applyTracking(): void {
    const next = effectivePriority(this.spec.machine.priority, [...this.tracked.values()]);
    const events = trackingEvents(this.spec.machine.priority, this.tracking, next);
    for (const w of next.warnings) if (!this.tracking?.warnings.includes(w)) this.deps.logger.warn({ instance: this.name }, w);
    this.tracking = next;
    for (const ev of events) {
      // A down link cannot carry our priority-0 goodbye; say so, so the core does not try.
      if (ev.type === 'fault') {
        const ownLinkDown = this.tracked.get(trackKey('interface', this.spec.interface))?.up === false;
        this.dispatch({ ...ev, canSend: !ownLinkDown });
      } else this.dispatch(ev);
    }
  }

  // ---- I/O, serialized ----------------------------------------------------------------------------

  private enqueue(what: string, job: () => Promise<void>): void {
    if (this.pendingIo >= MAX_PENDING_IO) {
      this.counters.drops['queue-full'] = (this.counters.drops['queue-full'] ?? 0) + 1;
      this.deps.logger.error({ instance: this.name, job: what, pending: this.pendingIo }, 'VRRP I/O queue full; job dropped');
      return;
    }
    this.pendingIo++;
    this.io = this.io.then(job).then(
      () => {
        this.pendingIo--;
      },
      (err: unknown) => {
        this.pendingIo--;
        this.deps.logger.error({ instance: this.name, job: what, err: errorMessage(err) }, 'VRRP I/O job failed');
      },
    );
  }

  private async sendAdvert(priority: number): Promise<void> {
    const m = this.st.config;
    const fields = advertFields(m, priority, this.spec.receive.auth);
    for (const dst of this.spec.destinations) {
      let bytes: Uint8Array;
      try {
        const signing = this.spec.hmacKey ? { ...this.spec.hmacKey, counter: ++this.hmacCounter } : undefined;
        bytes = encodeAdvert(fields, { family: m.family, src: m.primaryAddress, dst }, signing);
      } catch (err) {
        this.counters.sendErrors++;
        this.deps.logger.error({ instance: this.name, err: errorMessage(err) }, 'cannot encode our advert');
        return;
      }
      try {
        // The v3 checksum covers the destination, so each unicast peer gets its own encoding.
        await this.deps.transport.send(bytes, dst);
        this.counters.advertsSent++;
      } catch (err) {
        this.counters.sendErrors++;
        this.deps.logger.warn({ instance: this.name, dst, priority, err: errorMessage(err) }, 'VRRP advert not sent');
      }
    }
  }

  private async addVips(): Promise<void> {
    for (const vip of this.spec.vips) await this.vipOp('add', vip, 'became Master');
  }

  private async removeVips(reason: string): Promise<void> {
    this.stopAnnouncements();
    for (const vip of this.spec.vips) await this.vipOp('remove', vip, reason);
  }

  private async vipOp(op: 'add' | 'remove', vip: Vip, reason: string): Promise<void> {
    try {
      await withTimeout(this.deps.vips[op](vip), this.deps.vipTimeoutMs ?? 5000, `${op} VIP ${describeVip(vip)}`, this.timers);
      this.deps.logger.debug({ instance: this.name, vip: describeVip(vip), op, reason }, 'VIP changed');
    } catch (err) {
      this.counters.vipErrors++;
      this.deps.logger.error({ instance: this.name, vip: describeVip(vip), op, err: errorMessage(err) }, 'VIP operation failed');
      this.emit({ type: 'vip.error', instance: this.name, address: vip.address, interface: vip.dev, error: `${op}: ${errorMessage(err)}` });
    }
  }

  private stopAnnouncements(): void {
    this.announcement?.stop();
    this.announcement = undefined;
    for (const run of this.extraAnnouncements) run.stop();
    this.extraAnnouncements.clear();
  }

  /** Gratuitous ARP / unsolicited NA; a repeat (split brain) sends one burst without refresh. */
  private announce(again: boolean): void {
    if (!this.st.holdingVips || this.stopped) return;
    if (again && this.announcement) {
      const once = scheduleAnnouncements(this.spec.vips, this.deps.announcer, { ...this.spec.garp, delayMs: 0, refreshMs: 0 }, { timers: this.timers, logger: this.deps.logger });
      this.extraAnnouncements.add(once);
      void once.firstBurst.then(() => this.extraAnnouncements.delete(once));
      return;
    }
    this.announcement?.stop();
    this.announcement = scheduleAnnouncements(this.spec.vips, this.deps.announcer, this.spec.garp, { timers: this.timers, logger: this.deps.logger });
  }
}
