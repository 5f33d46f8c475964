// The parent side of the VRRP child process (keepalived's shape: VRRP in a child of its own, supervised by the
// main process). It implements VrrpControl, so the daemon cannot tell it from an in-process manager:
// - status() is synchronous: it answers from a cache the child refreshes on every event and every tick;
// - the child's bus events are re-emitted on the daemon's bus (logs, alerts, metrics, state file);
// - a child that dies is logged with the reason, reported (vrrp.process event), its VIPs are released here, and
//   it is restarted with backoff (backoff.ts); the new child starts every instance in Backup and listens before
//   claiming Master, so a restart cannot make a second master;
// - stop() asks for the planned stop (priority 0, make-before-break) and kills the child if it hangs, then
//   releases the VIPs itself;
// - every child it forks gets the configured nice (global.vrrp_nice, keepalived's vrrp_priority): on a busy
//   director the child then waits less for a CPU behind the checks (issue #7). Lowering a nice needs
//   CAP_SYS_NICE; without it the child runs at the daemon's nice and one warning says so.
import { setPriority as osSetPriority } from 'node:os';
import type { VrrpConfig } from '../../config/types.js';
import type { EventBus } from '../../events/bus.js';
import { createEvent, type EventBody, type LvsEvent } from '../../events/types.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { ManagedInstanceStatus, VrrpControl } from '../runtime/manager.js';
import { realRuntimeTimers, type RuntimeTimers } from '../runtime/timers.js';
import { DEFAULT_RESTART_POLICY, exitReason, nextCrashCount, restartDelayMs, type RestartPolicy } from './backoff.js';
import { isFromChild, type ChildSettings, type FromChild, type ReloadResult, type ToChild } from './protocol.js';

/** One running child as the supervisor sees it (fork-link.ts makes real ones, unit tests fake ones). */
export interface ChildLink {
  readonly pid: number | undefined;
  /** `done` runs once the message left this process, or with the error that kept it from leaving. */
  send(msg: ToChild, done: (err: Error | null) => void): void;
  onMessage(fn: (msg: unknown) => void): void;
  onExit(fn: (code: number | null, signal: string | null) => void): void;
  onError(fn: (err: Error) => void): void;
  /** SIGKILL; nothing when the child is already gone. */
  kill(): void;
}

export type SpawnChild = () => ChildLink;

export interface SupervisorOptions {
  config: VrrpConfig;
  settings: ChildSettings;
  logger: Logger;
  bus: EventBus<LvsEvent>;
  spawn: SpawnChild;
  /** Backoff, start/stop deadlines. Real timers by default. */
  timers?: RuntimeTimers;
  wallClock?: () => number;
  /** Remove the configured VIPs from this process (a dead or killed child cannot). */
  releaseVips?: (config: VrrpConfig) => Promise<void>;
  /** Lateness (ms) of the child's VRRP timers, as it reports them. */
  onTimerLateness?: (samplesMs: readonly number[]) => void;
  policy?: RestartPolicy;
  /** Longest wait for the child to start its instances; default 60 s. */
  startTimeoutMs?: number;
  /** Longest wait for a planned stop; default from the advert intervals (stopTimeoutFor). */
  stopTimeoutMs?: number;
  /** Longest wait for the child's answer to a reload; default 60 s. */
  requestTimeoutMs?: number;
  /** A started child silent this long is wedged and killed; default unresponsiveFor(config). */
  unresponsiveMs?: number;
  /**
   * Nice value (-20..19) for every child forked (first start and restarts); undefined leaves it as inherited.
   * Linux applies it to the child's main thread, the one that runs its VRRP timers and sends the adverts.
   */
  nice?: number;
  /** os.setPriority by default; tests inject a fake. */
  setPriority?: (pid: number, priority: number) => void;
  /** Runs `fn` after pending I/O has been read (setImmediate): a stalled parent must not blame the child. */
  defer?: (fn: () => void) => void;
}

export interface SupervisedVrrp extends VrrpControl {
  /** The running child's PID (undefined while none runs). */
  readonly pid: number | undefined;
  /** Restarts after crashes so far. */
  readonly restarts: number;
}

/** Messages to the child that have not left this process; beyond this, updates are dropped (a wedged child). */
const MAX_PENDING_SENDS = 1000;

/**
 * A planned stop waits for the new master up to Master_Down_Interval (3 x advert interval + skew) per instance,
 * all in parallel: the slowest instance decides, plus time for the VIPs and the process to end.
 */
export function stopTimeoutFor(config: VrrpConfig): number {
  const slowest = Math.max(1_000, ...config.instances.map((i) => i.advert_interval));
  return 4 * slowest + 5_000;
}

/**
 * The child pushes its status every second; silence much longer than that while its instances run means its
 * event loop is stuck (no adverts either, so the peer takes over). Long enough for slow adverts' own timers.
 */
export function unresponsiveFor(config: VrrpConfig): number {
  return Math.max(10_000, 3 * Math.max(0, ...config.instances.map((i) => i.advert_interval)) + 5_000);
}

const WATCHDOG_TICK_MS = 1_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: unknown;
}

class RequestTimeout extends Error {}

interface Running {
  link: ChildLink;
  startedAt: number;
  /** Set once the child answered `start` (its instances are running or failed with a reason). */
  up: boolean;
  fatal?: string;
  /** When the parent last heard anything from it (runtime clock). */
  lastHeard: number;
  watchdog?: unknown;
  pending: Map<number, Pending>;
  exited: Promise<void>;
  sends: number;
  dropped: number;
}

export function createSupervisedVrrp(opts: SupervisorOptions): SupervisedVrrp {
  const { logger, bus } = opts;
  const timers = opts.timers ?? realRuntimeTimers;
  const wallClock = opts.wallClock ?? Date.now;
  const policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  let config = opts.config;
  let settings = opts.settings;
  let child: Running | undefined;
  let cache: ManagedInstanceStatus[] = [];
  let crashes = 0;
  let restarts = 0;
  let restartTimer: unknown;
  let stopping = false;
  let started = false;
  /** Between a crash and the restarted child's spawn. */
  let restarting = false;
  let nextId = 1;
  /** The missing-privilege warning is given once, not at every restart. */
  let niceWarned = false;
  /** The latest health of every tracked pool object, replayed to a restarted child. */
  const checkStates = new Map<string, { virtualServer: string; realServer: string | undefined; up: boolean }>();

  const emit = (body: EventBody): void => bus.emit(createEvent(body, wallClock()));

  const post = (c: Running, msg: ToChild): boolean => {
    if (c.sends >= MAX_PENDING_SENDS) {
      if (c.dropped++ === 0) logger.error({ pid: c.link.pid, pending: c.sends }, 'the VRRP process is not reading its messages; dropping updates to it');
      return false;
    }
    c.sends++;
    c.link.send(msg, (err) => {
      c.sends--;
      if (err && !stopping) logger.warn({ pid: c.link.pid, message: msg.t, err: errorMessage(err) }, 'message to the VRRP process not sent');
    });
    return true;
  };

  const request = (c: Running, msg: ToChild & { id: number }, timeoutMs: number, what: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        c.pending.delete(msg.id);
        reject(new RequestTimeout(`the VRRP process did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      c.pending.set(msg.id, { resolve, reject, timer });
      if (!post(c, msg)) {
        timers.clearTimeout(timer);
        c.pending.delete(msg.id);
        reject(new Error(`${what}: the VRRP process is not reading its messages`));
      }
    });

  const onMessage = (c: Running, raw: unknown): void => {
    if (!isFromChild(raw)) {
      logger.warn({ pid: c.link.pid }, 'ignored a malformed message from the VRRP process');
      return;
    }
    const m: FromChild = raw;
    switch (m.t) {
      case 'reply': {
        const p = c.pending.get(m.id);
        if (!p) return;
        c.pending.delete(m.id);
        timers.clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else p.reject(new Error(m.error));
        return;
      }
      case 'event':
        bus.emit(m.event);
        return;
      case 'status':
        if (child === c) cache = m.status;
        if (m.lateness.length > 0) opts.onTimerLateness?.(m.lateness);
        if (m.latenessDropped > 0) logger.debug({ dropped: m.latenessDropped }, 'VRRP timer lateness samples dropped by the VRRP process');
        return;
      case 'fatal':
        c.fatal = m.error;
        return;
    }
  };

  /** The instances as "restarting": names stay visible (status, metrics), nothing is claimed. */
  const markDown = (reason: string): void => {
    const at = wallClock();
    cache = cache.map((s): ManagedInstanceStatus => {
      const down: ManagedInstanceStatus = { ...s, state: 'Initialize', holdingVips: false, lastChange: { at, reason } };
      delete down.masterAddress;
      return down;
    });
  };

  const release = async (why: string): Promise<void> => {
    if (!opts.releaseVips || config.instances.length === 0) return;
    try {
      await opts.releaseVips(config);
      logger.info({ why }, 'VIPs of the VRRP process released');
    } catch (err) {
      logger.error({ why, err: errorMessage(err) }, 'releasing the VIPs of the VRRP process failed');
    }
  };

  const spawn = (): Running => {
    const link = opts.spawn();
    let exitedResolve: () => void = () => undefined;
    const c: Running = { link, startedAt: timers.now(), lastHeard: timers.now(), up: false, pending: new Map(), exited: new Promise((r) => (exitedResolve = r)), sends: 0, dropped: 0 };
    link.onMessage((m) => {
      // Whatever arrives proves the child's loop turns, even a message this side cannot use.
      c.lastHeard = timers.now();
      onMessage(c, m);
    });
    link.onError((err) => logger.error({ pid: link.pid, err: errorMessage(err) }, 'VRRP process error'));
    link.onExit((code, signal) => {
      exitedResolve();
      if (c.watchdog !== undefined) timers.clearTimeout(c.watchdog);
      for (const p of c.pending.values()) {
        timers.clearTimeout(p.timer);
        p.reject(new Error(`the VRRP process ended (${exitReason(code, signal, c.fatal)})`));
      }
      c.pending.clear();
      if (child === c) {
        child = undefined;
        if (!stopping) void crashed(c, code, signal);
      }
    });
    child = c;
    logger.info({ pid: link.pid }, 'VRRP process started');
    renice(link.pid);
    return c;
  };

  const renice = (pid: number | undefined): void => {
    const nice = opts.nice;
    if (nice === undefined || pid === undefined) return;
    try {
      (opts.setPriority ?? osSetPriority)(pid, nice);
      logger.debug({ pid, nice }, 'VRRP process nice set');
    } catch (err) {
      // os.setPriority throws ERR_SYSTEM_ERROR with the errno name in `info.code`.
      const e = err as { code?: unknown; info?: { code?: unknown } };
      const code = e.info?.code ?? e.code;
      // A child that already died (ESRCH) is the exit handler's business.
      if (code === 'ESRCH') return;
      if (niceWarned) return;
      niceWarned = true;
      const denied = code === 'EPERM' || code === 'EACCES';
      logger.warn(
        { pid, nice, err: errorMessage(err) },
        denied
          ? 'cannot set the nice of the VRRP process (needs CAP_SYS_NICE; with systemd add it to CapabilityBoundingSet and AmbientCapabilities); it runs at the daemon\'s nice, and its adverts may be late on a busy machine'
          : 'cannot set the nice of the VRRP process; it runs at the daemon\'s nice',
      );
    }
  };

  /** Kill a child that cannot be trusted any more; its exit goes the crash way (VIPs released, restart). */
  const condemn = (c: Running, why: string): void => {
    if (c.fatal === undefined) c.fatal = why;
    logger.error({ pid: c.link.pid, why }, 'killing the VRRP process');
    c.link.kill();
  };

  const watch = (c: Running): void => {
    const limit = opts.unresponsiveMs ?? unresponsiveFor(config);
    const defer = opts.defer ?? ((fn: () => void) => void setImmediate(fn));
    const tick = (): void => {
      c.watchdog = undefined;
      if (child !== c || stopping) return;
      if (timers.now() - c.lastHeard <= limit) {
        c.watchdog = timers.setTimeout(tick, WATCHDOG_TICK_MS);
        return;
      }
      // This timer may run first thing after our own loop was stalled: read what is waiting, then judge.
      defer(() => {
        if (child !== c || stopping) return;
        const silent = timers.now() - c.lastHeard;
        if (silent > limit) condemn(c, `unresponsive for ${Math.round(silent)} ms`);
        else c.watchdog = timers.setTimeout(tick, WATCHDOG_TICK_MS);
      });
    };
    c.watchdog = timers.setTimeout(tick, WATCHDOG_TICK_MS);
  };

  const startChild = async (c: Running): Promise<void> => {
    try {
      await request(c, { t: 'start', id: nextId++, config, settings }, opts.startTimeoutMs ?? 60_000, 'start');
    } catch (err) {
      // A child that never answers start is stuck, not slow: replace it (crash path, with backoff).
      if (err instanceof RequestTimeout && child === c) condemn(c, errorMessage(err));
      throw err;
    } finally {
      // Even a partial start runs instances: tracking must reach them.
      c.up = true;
      if (child === c) watch(c);
      for (const s of checkStates.values()) post(c, { t: 'check-state', virtualServer: s.virtualServer, ...(s.realServer !== undefined ? { realServer: s.realServer } : {}), up: s.up });
    }
  };

  const crashed = async (c: Running, code: number | null, signal: string | null): Promise<void> => {
    restarting = true;
    const lived = timers.now() - c.startedAt;
    crashes = nextCrashCount(crashes, lived, policy);
    const delay = restartDelayMs(crashes, policy);
    const reason = exitReason(code, signal, c.fatal);
    logger.error({ pid: c.link.pid, reason, livedMs: Math.round(lived), restartInMs: delay, crashes }, 'VRRP process exited unexpectedly; releasing its VIPs and restarting it');
    markDown(`VRRP process exited: ${reason}`);
    emit({ type: 'vrrp.process', status: 'exited', reason, restarts });
    await release(`VRRP process exited: ${reason}`);
    if (stopping) return;
    restartTimer = timers.setTimeout(() => {
      restartTimer = undefined;
      restarting = false;
      if (stopping) return;
      const next = spawn();
      restarts++;
      startChild(next).then(
        () => {
          logger.warn({ pid: next.link.pid, restarts }, 'VRRP process restarted; its instances start in Backup');
          emit({ type: 'vrrp.process', status: 'restarted', reason: `after ${reason}`, restarts });
        },
        (err: unknown) => logger.error({ pid: next.link.pid, err: errorMessage(err) }, 'restarted VRRP process did not start completely'),
      );
    }, delay);
  };

  const sendOrNote = (msg: ToChild, what: string): void => {
    if (child?.up) post(child, msg);
    else if (!stopping) logger.warn({ what }, 'the VRRP process is not running (restarting); request not delivered');
  };

  const setLevel = (level: string): void => {
    settings = { ...settings, logLevel: level };
    if (child?.up) post(child, { t: 'log-level', level });
  };
  // The parent's level follows the config and the command line (run.ts); the child's follows the parent's.
  logger.on('level-change', (level) => setLevel(level));

  return {
    get pid() {
      return child?.link.pid;
    },
    get restarts() {
      return restarts;
    },

    async start() {
      if (child) throw new Error('VRRP process: start() called twice');
      stopping = false;
      started = true;
      // No VRRP configured, no process; a reload that adds instances starts it.
      if (config.instances.length === 0) return;
      await startChild(spawn());
    },

    async stop() {
      stopping = true;
      if (restartTimer !== undefined) timers.clearTimeout(restartTimer);
      restartTimer = undefined;
      const c = child;
      if (!c) return;
      if (c.watchdog !== undefined) timers.clearTimeout(c.watchdog);
      const limit = opts.stopTimeoutMs ?? stopTimeoutFor(config);
      try {
        await request(c, { t: 'stop', id: nextId++ }, limit, 'stop');
        // It exits by itself right after the answer; a child that lingers is ended.
        await waitOrKill(c, 2_000);
      } catch (err) {
        logger.error({ pid: c.link.pid, err: errorMessage(err), timeoutMs: limit }, 'the VRRP process did not stop in time; killing it and releasing its VIPs here');
        c.link.kill();
        await c.exited;
        await release('VRRP process killed at stop');
      } finally {
        child = undefined;
        markDown('stopped');
      }
    },

    async reload(next): Promise<ReloadResult> {
      config = next;
      const c = child;
      if (!c && started && !stopping && !restarting && next.instances.length > 0) {
        await startChild(spawn());
        return { kept: [], started: next.instances.map((i) => i.name), stopped: [] };
      }
      if (!c?.up) {
        // The restart picks up the new configuration.
        logger.warn('VRRP reload while the VRRP process is restarting: it starts with the new configuration');
        return { kept: [], started: [], stopped: [] };
      }
      return (await request(c, { t: 'reload', id: nextId++, config: next }, opts.requestTimeoutMs ?? 60_000, 'reload')) as ReloadResult;
    },

    status: () => cache,

    stepDown(name, reason = 'operator request') {
      sendOrNote({ t: 'step-down', ...(name !== undefined ? { name } : {}), reason }, 'step-down');
    },

    setCheckState(virtualServer, realServer, up) {
      const key = `${virtualServer}\0${realServer ?? ''}`;
      if (checkStates.get(key)?.up === up) return; // the daemon reports every tracked object on every pool change
      checkStates.set(key, { virtualServer, realServer, up });
      if (child?.up) post(child, { t: 'check-state', virtualServer, ...(realServer !== undefined ? { realServer } : {}), up });
    },
  };

  async function waitOrKill(c: Running, ms: number): Promise<void> {
    let timer: unknown;
    const late = new Promise<'late'>((r) => (timer = timers.setTimeout(() => r('late'), ms)));
    const r = await Promise.race([c.exited.then(() => 'exited' as const), late]);
    timers.clearTimeout(timer);
    if (r === 'late') {
      c.link.kill();
      await c.exited;
    }
  }
}
