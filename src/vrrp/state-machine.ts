// The RFC 5798 (and RFC 3768) state machine for one virtual router, as a pure function:
//   step(state, event, now) -> { state, actions }
// The adapter owns sockets, timers and VIPs: it feeds events in (validated adverts, timer expiries, tracking
// results) and carries the actions out in order. Times are milliseconds on the adapter's monotonic clock.
// Beyond the RFC, it follows keepalived 2.2.7 where the RFC leaves room: a master that hears a lower-priority
// advert answers at once and re-announces its VIPs (split brain repair), a master leaving for Fault sends
// priority 0, preempt_delay starts at the first lower-priority advert, an owner that hears another owner drops
// to 254. It adds a planned, make-before-break step-down.
import type { VrrpVersion } from './codec.js';
import { compareIp, sameIp, type IpFamily } from '../net/ip.js';
import { advertIntervalMs, masterDownIntervalMs, skewTimeMs } from './timers.js';

export const PRIORITY_OWNER = 255;
export const PRIORITY_STOP = 0;

export interface VrrpInstanceConfig {
  name: string;
  version: VrrpVersion;
  family: IpFamily;
  vrid: number;
  /** Configured priority 1..255; 255 means address owner. Tracking changes the effective one via priority-changed. */
  priority: number;
  /** Advert interval in centiseconds (VRRPv2: a multiple of 100). */
  intervalCs: number;
  /** false = keepalived's nopreempt. */
  preempt: boolean;
  /** keepalived's preempt_delay in ms (0 = none): a lower-priority master is tolerated this long. */
  preemptDelayMs: number;
  /** RFC 5798 Accept_Mode: carried to the adapter, which decides whether to answer packets for the VIPs. */
  acceptMode: boolean;
  /** Our own primary address on the interface (the advert source): the tie-breaker on equal priority. */
  primaryAddress: string;
  vips: readonly string[];
  /** How long a stepping-down master keeps its VIPs waiting for the new master's advert (default Master_Down_Interval). */
  stepDownHoldMs?: number;
}

export type VrrpStateName = 'Initialize' | 'Backup' | 'Master' | 'Fault';
export type TimerName = 'advert' | 'master-down' | 'step-down';

export interface VrrpInstanceState {
  readonly config: VrrpInstanceConfig;
  readonly state: VrrpStateName;
  /** Effective priority (tracking applied). */
  readonly priority: number;
  /** Master_Adver_Interval in centiseconds: learned from the master's adverts in VRRPv3. */
  readonly masterAdverIntervalCs: number;
  /** Deadlines of running timers; an expiry event whose timer is not running (or not yet due) is stale. */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  /** Our own fault (tracked object with weight 0, link down). */
  readonly faulted: boolean;
  /** Fault imposed because another member of our sync group is faulted. */
  readonly syncFaulted: boolean;
  /** Master_Down expired but a sync group held us back until all members can be master. */
  readonly wantsMaster: boolean;
  /** Whether the VIPs are configured on our interface (Master, or a Backup still in make-before-break step-down). */
  readonly holdingVips: boolean;
  /** After a planned step-down we behave as nopreempt until resumed, else we would take the VIPs straight back. */
  readonly preemptSuppressed: boolean;
  /** keepalived's preempt_delay deadline, started by the first lower-priority advert. */
  readonly preemptDelayUntil?: number;
  readonly master?: { readonly src: string; readonly priority: number };
  readonly since: number;
  readonly reason: string;
}

export type VrrpEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  | { type: 'advert-received'; priority: number; maxAdvertIntervalCs: number; src: string }
  | { type: 'master-down-timer-fired' }
  | { type: 'advert-timer-fired' }
  | { type: 'step-down-timer-fired' }
  | { type: 'priority-changed'; priority: number; reason: string }
  | { type: 'fault'; reason: string; /** false when the link is down and nothing can be sent */ canSend?: boolean }
  | { type: 'fault-cleared'; reason: string }
  | { type: 'step-down-requested'; reason: string }
  | { type: 'preempt-resume'; reason: string }
  | { type: 'sync-master'; group: string; reason: string }
  | { type: 'sync-backup'; group: string; reason: string }
  | { type: 'sync-fault'; group: string; reason: string }
  | { type: 'sync-fault-cleared'; group: string; reason: string };

export type VrrpAction =
  | { type: 'send-advert'; priority: number }
  | { type: 'set-timer'; timer: TimerName; at: number }
  | { type: 'cancel-timer'; timer: TimerName }
  /** Add the VIPs (unless vipsHeld) and announce them (gratuitous ARP / unsolicited NA). */
  | { type: 'become-master'; from: VrrpStateName; reason: string; acceptMode: boolean; vipsHeld: boolean }
  | { type: 'become-backup'; from: VrrpStateName; reason: string; releaseVips: boolean }
  | { type: 'become-fault'; from: VrrpStateName; reason: string; releaseVips: boolean }
  | { type: 'become-initialize'; from: VrrpStateName; reason: string; releaseVips: boolean }
  /** End of a make-before-break step-down: remove the VIPs now. */
  | { type: 'release-vips'; reason: string }
  /** Re-send gratuitous ARP / unsolicited NA for the VIPs we hold. */
  | { type: 'announce-vips'; reason: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface StepResult {
  state: VrrpInstanceState;
  actions: VrrpAction[];
}

export interface StepOptions {
  /** Set false by a sync group while other members cannot be master; default true. */
  mayBecomeMaster?: boolean;
}

export function initialState(config: VrrpInstanceConfig, now: number): VrrpInstanceState {
  return {
    config,
    state: 'Initialize',
    priority: config.priority,
    masterAdverIntervalCs: config.intervalCs,
    timers: {},
    faulted: false,
    syncFaulted: false,
    wantsMaster: false,
    holdingVips: false,
    preemptSuppressed: false,
    since: now,
    reason: 'not started',
  };
}

export function skewTime(s: VrrpInstanceState): number {
  return skewTimeMs(s.config.version, s.priority, s.masterAdverIntervalCs);
}

export function masterDownInterval(s: VrrpInstanceState): number {
  return masterDownIntervalMs(s.config.version, s.priority, s.masterAdverIntervalCs);
}

/** True when `src` at `priority` beats us: higher priority, or equal priority and a numerically higher address. */
export function advertWins(priority: number, src: string, ours: number, ourAddress: string): boolean {
  if (priority !== ours) return priority > ours;
  return compareIp(src, ourAddress) > 0;
}

// A small builder so every branch reads as a list of what happens.
class Step {
  actions: VrrpAction[] = [];
  constructor(
    public s: VrrpInstanceState,
    readonly now: number,
  ) {}
  set(patch: Partial<Omit<VrrpInstanceState, 'config'>>): void {
    this.s = { ...this.s, ...patch };
  }
  send(priority: number): void {
    this.actions.push({ type: 'send-advert', priority });
  }
  setTimer(timer: TimerName, at: number): void {
    this.s = { ...this.s, timers: { ...this.s.timers, [timer]: at } };
    this.actions.push({ type: 'set-timer', timer, at });
  }
  cancelTimer(timer: TimerName): void {
    if (this.s.timers[timer] === undefined) return;
    const timers = { ...this.s.timers };
    delete timers[timer];
    this.s = { ...this.s, timers };
    this.actions.push({ type: 'cancel-timer', timer });
  }
  cancelAll(): void {
    for (const t of ['advert', 'master-down', 'step-down'] as const) this.cancelTimer(t);
  }
  log(message: string, level: 'info' | 'warn' = 'info'): void {
    this.actions.push({ type: 'log', level, message: `(${this.s.config.name}) ${message}` });
  }
  result(): StepResult {
    return { state: this.s, actions: this.actions };
  }
}

function enterMaster(st: Step, reason: string): void {
  const from = st.s.state;
  const vipsHeld = st.s.holdingVips;
  st.cancelTimer('master-down');
  st.cancelTimer('step-down');
  st.set({ state: 'Master', holdingVips: true, wantsMaster: false, preemptSuppressed: false, preemptDelayUntil: undefined, master: undefined, since: st.now, reason });
  // VIPs before the first advert (RFC 5798 6.4.2 sends first): a stepping-down master releases its copy as soon
  // as it hears us, so ours must already be in place for the hand-over to be make-before-break.
  st.actions.push({ type: 'become-master', from, reason, acceptMode: st.s.config.acceptMode, vipsHeld });
  st.send(st.s.priority);
  st.setTimer('advert', st.now + advertIntervalMs(st.s.config.intervalCs));
}

/** Enter Backup with a fresh Master_Down timer; VIPs released unless `keepVips` (make-before-break). */
function enterBackup(st: Step, reason: string, keepVips = false): void {
  const from = st.s.state;
  const releaseVips = st.s.holdingVips && !keepVips;
  st.cancelTimer('advert');
  st.set({ state: 'Backup', holdingVips: st.s.holdingVips && keepVips, since: st.now, reason });
  if (!keepVips) st.setTimer('master-down', st.now + masterDownInterval(st.s));
  st.actions.push({ type: 'become-backup', from, reason, releaseVips });
}

function enterFault(st: Step, reason: string, canSend: boolean): void {
  const from = st.s.state;
  if (from === 'Master' && canSend) st.send(PRIORITY_STOP);
  const releaseVips = st.s.holdingVips;
  st.cancelAll();
  st.set({ state: 'Fault', holdingVips: false, wantsMaster: false, masterAdverIntervalCs: st.s.config.intervalCs, since: st.now, reason });
  st.actions.push({ type: 'become-fault', from, reason, releaseVips });
}

/** Leave Initialize or Fault: owner goes straight to Master (RFC 5798 6.4.1), everyone else to Backup. */
function leaveIdle(st: Step, reason: string, mayBecomeMaster: boolean): void {
  st.set({ masterAdverIntervalCs: st.s.config.intervalCs });
  if (st.s.priority === PRIORITY_OWNER) {
    if (mayBecomeMaster) {
      enterMaster(st, `${reason}; priority 255 (address owner)`);
      return;
    }
    enterBackup(st, `${reason}; address owner held in Backup by sync group`);
    st.set({ wantsMaster: true });
    return;
  }
  enterBackup(st, reason);
}

export function step(state: VrrpInstanceState, event: VrrpEvent, now: number, opts: StepOptions = {}): StepResult {
  const st = new Step(state, now);
  const mayBecomeMaster = opts.mayBecomeMaster ?? true;
  const s = st.s;
  switch (event.type) {
    case 'startup':
      if (s.state !== 'Initialize') {
        st.log(`startup ignored: already ${s.state}`);
        break;
      }
      if (s.faulted || s.syncFaulted) enterFault(st, s.faulted ? 'startup with a tracked object down' : 'startup while sync group is in fault', false);
      else leaveIdle(st, 'startup', mayBecomeMaster);
      break;

    case 'shutdown': {
      if (s.state === 'Initialize') break;
      const from = s.state;
      if (from === 'Master') st.send(PRIORITY_STOP);
      const releaseVips = s.holdingVips;
      st.cancelAll();
      st.set({ state: 'Initialize', holdingVips: false, wantsMaster: false, master: undefined, since: now, reason: 'shutdown' });
      st.actions.push({ type: 'become-initialize', from, reason: from === 'Master' ? 'shutdown (sent priority 0)' : 'shutdown', releaseVips });
      break;
    }

    case 'advert-received':
      onAdvert(st, event);
      break;

    case 'master-down-timer-fired': {
      const due = s.timers['master-down'];
      if (s.state !== 'Backup' || due === undefined || now < due) {
        st.log('stale master-down timer ignored');
        break;
      }
      const masterText = s.master ? `master ${s.master.src} (priority ${s.master.priority}) silent` : 'no master heard';
      if (!mayBecomeMaster) {
        st.set({ wantsMaster: true });
        st.setTimer('master-down', now + masterDownInterval(s));
        st.log(`Master_Down_Interval expired (${masterText}) but sync group members cannot all be master yet: holding in Backup`);
        break;
      }
      enterMaster(st, `Master_Down_Interval expired: ${masterText}`);
      break;
    }

    case 'advert-timer-fired': {
      const due = s.timers.advert;
      if (s.state !== 'Master' || due === undefined || now < due) {
        st.log('stale advert timer ignored');
        break;
      }
      st.send(s.priority);
      st.setTimer('advert', now + advertIntervalMs(s.config.intervalCs));
      break;
    }

    case 'step-down-timer-fired': {
      const due = s.timers['step-down'];
      if (s.state !== 'Backup' || !s.holdingVips || due === undefined || now < due) {
        st.log('stale step-down timer ignored');
        break;
      }
      releaseAfterStepDown(st, `step-down: no new master advert within ${(due - s.since).toFixed(0)} ms, releasing VIPs anyway`);
      break;
    }

    case 'priority-changed':
      onPriorityChanged(st, event.priority, event.reason);
      break;

    case 'fault':
      if (s.faulted) break;
      st.set({ faulted: true });
      if (s.state === 'Initialize' || s.state === 'Fault') {
        st.log(`fault while ${s.state}: ${event.reason}`);
        break;
      }
      enterFault(st, event.reason, event.canSend ?? true);
      break;

    case 'fault-cleared':
      if (!s.faulted) break;
      st.set({ faulted: false });
      if (s.state !== 'Fault') break;
      if (s.syncFaulted) {
        st.log(`${event.reason}, but the sync group is still in fault`);
        break;
      }
      leaveIdle(st, `fault cleared: ${event.reason}`, mayBecomeMaster);
      break;

    case 'step-down-requested':
      if (s.state !== 'Master') {
        st.log(`step-down requested while ${s.state}: nothing to do`);
        break;
      }
      // Priority 0 makes backups take over after only Skew_Time; we keep the VIPs until we hear them (make-before-break).
      st.send(PRIORITY_STOP);
      enterBackup(st, `planned step-down: ${event.reason}`, true);
      st.set({ preemptSuppressed: true, master: undefined });
      st.setTimer('step-down', now + (s.config.stepDownHoldMs ?? masterDownInterval(s)));
      break;

    case 'preempt-resume':
      if (s.preemptSuppressed) {
        st.set({ preemptSuppressed: false });
        st.log(`preemption resumed: ${event.reason}`);
      }
      break;

    case 'sync-master':
      if (s.state === 'Backup') enterMaster(st, `sync group ${event.group}: ${event.reason}`);
      break;

    case 'sync-backup':
      if (s.state === 'Master') enterBackup(st, `sync group ${event.group}: ${event.reason}`);
      else if (s.wantsMaster) st.set({ wantsMaster: false });
      break;

    case 'sync-fault':
      if (s.syncFaulted) break;
      st.set({ syncFaulted: true });
      if (s.state === 'Backup' || s.state === 'Master') enterFault(st, `sync group ${event.group}: ${event.reason}`, true);
      break;

    case 'sync-fault-cleared':
      if (!s.syncFaulted) break;
      st.set({ syncFaulted: false });
      if (s.state === 'Fault' && !s.faulted) leaveIdle(st, `sync group ${event.group}: ${event.reason}`, mayBecomeMaster);
      break;
  }
  return st.result();
}

function releaseAfterStepDown(st: Step, reason: string): void {
  st.cancelTimer('step-down');
  st.set({ holdingVips: false });
  st.actions.push({ type: 'release-vips', reason });
  st.setTimer('master-down', st.now + masterDownInterval(st.s));
}

function onAdvert(st: Step, ev: { priority: number; maxAdvertIntervalCs: number; src: string }): void {
  const s = st.s;
  const from = `${ev.src} (priority ${ev.priority})`;
  if (sameIp(ev.src, s.config.primaryAddress)) {
    st.log(`advert with our own address ${ev.src} ignored (looped back, or another router uses our address)`, 'warn');
    return;
  }
  if (s.state === 'Master') {
    onAdvertAsMaster(st, ev, from);
    return;
  }
  if (s.state !== 'Backup') return; // Initialize and Fault ignore adverts (RFC 5798 6.4).

  if (s.holdingVips && ev.priority !== PRIORITY_STOP) {
    // Make-before-break: the new master is announcing, so our copy of the VIPs can go. This also arms
    // Master_Down, which the advert handling below resets or (for a discarded lower advert) leaves running.
    releaseAfterStepDown(st, `step-down complete: new master ${from}`);
  }

  if (ev.priority === PRIORITY_STOP) {
    // The master is leaving: wait only Skew_Time (RFC 5798 6.4.2).
    st.setTimer('master-down', st.now + skewTime(s));
    st.set({ master: undefined });
    st.log(`master ${ev.src} sent priority 0: taking over after Skew_Time ${skewTime(s)} ms unless another router does`);
    return;
  }

  const delayRunning = s.config.preemptDelayMs > 0 && (s.preemptDelayUntil === undefined || st.now < s.preemptDelayUntil);
  const accept = !s.config.preempt || s.preemptSuppressed || ev.priority >= s.priority || delayRunning;
  if (!accept) {
    st.set({ master: { src: ev.src, priority: ev.priority } });
    st.log(`lower priority advert from ${from} discarded (ours ${s.priority}, preempt): will take over when Master_Down expires`);
    return;
  }
  const learned = learnedInterval(s, ev.maxAdvertIntervalCs);
  if (learned !== s.masterAdverIntervalCs) st.log(`learned Master_Adver_Interval ${learned} cs from ${ev.src} (was ${s.masterAdverIntervalCs} cs)`);
  let preemptDelayUntil = s.preemptDelayUntil;
  if (s.config.preemptDelayMs > 0) {
    if (ev.priority >= s.priority) preemptDelayUntil = undefined;
    else if (preemptDelayUntil === undefined) {
      preemptDelayUntil = st.now + s.config.preemptDelayMs;
      st.log(`lower priority master ${from}: preempt_delay started, preempting after ${s.config.preemptDelayMs} ms`);
    }
  }
  st.set({ masterAdverIntervalCs: learned, master: { src: ev.src, priority: ev.priority }, wantsMaster: false, preemptDelayUntil });
  st.setTimer('master-down', st.now + masterDownInterval(st.s));
}

function onAdvertAsMaster(st: Step, ev: { priority: number; maxAdvertIntervalCs: number; src: string }, from: string): void {
  const s = st.s;
  if (ev.priority === PRIORITY_STOP) {
    // Another master is leaving: assert ourselves at once (RFC 5798 6.4.3).
    st.send(s.priority);
    st.setTimer('advert', st.now + advertIntervalMs(s.config.intervalCs));
    st.log(`priority 0 advert from ${ev.src}: answered with our advert`);
    return;
  }
  let ours = s.priority;
  if (ev.priority === PRIORITY_OWNER && ours === PRIORITY_OWNER) {
    // Two address owners is a configuration error; keepalived lowers its own priority so one of them wins.
    ours = PRIORITY_OWNER - 1;
    st.set({ priority: ours });
    st.log(`CONFIGURATION ERROR: ${ev.src} is also priority 255 (address owner); lowering ours to 254`, 'warn');
  }
  if (advertWins(ev.priority, ev.src, ours, s.config.primaryAddress)) {
    const why = ev.priority > ours ? `higher priority advert from ${from}, ours ${ours}` : `equal priority ${ours} from higher address ${ev.src} (ours ${s.config.primaryAddress})`;
    const learned = learnedInterval(s, ev.maxAdvertIntervalCs);
    st.set({ masterAdverIntervalCs: learned, master: { src: ev.src, priority: ev.priority } });
    enterBackup(st, why);
    return;
  }
  // Split brain: a lower router also thinks it is master (it lost our adverts). Answer now so it steps down,
  // and re-announce the VIPs in case it already moved the neighbours' ARP/ND caches to itself.
  st.send(s.priority);
  st.actions.push({ type: 'announce-vips', reason: `lower priority master ${from} seen` });
  st.log(`lower priority advert from ${from} while Master (ours ${ours}): answered and re-announced VIPs`);
}

/** VRRPv3 learns the master's interval; VRRPv2 never does (mismatches were dropped). Out-of-range values are ignored. */
function learnedInterval(s: VrrpInstanceState, advertised: number): number {
  if (s.config.version !== 3 || !Number.isInteger(advertised) || advertised < 1 || advertised > 4095) return s.masterAdverIntervalCs;
  return advertised;
}

function onPriorityChanged(st: Step, priority: number, reason: string): void {
  const s = st.s;
  if (!Number.isInteger(priority) || priority < 1 || priority > 255) {
    st.log(`priority-changed to ${priority} ignored: must be 1..255 (${reason})`, 'warn');
    return;
  }
  if (priority === s.priority) return;
  const oldDown = masterDownInterval(s);
  st.set({ priority });
  st.log(`effective priority ${s.priority} -> ${priority}: ${reason}`);
  const due = s.timers['master-down'];
  if (s.state === 'Backup' && due !== undefined) {
    // Like keepalived: move the running Master_Down deadline by the change in Skew_Time.
    st.setTimer('master-down', due + (masterDownInterval(st.s) - oldDown));
  }
}
