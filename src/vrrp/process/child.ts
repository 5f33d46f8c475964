// The VRRP side of the daemon, as run inside the child process: one VRRP manager with its own event loop, so
// health checks, IPVS passes and alert delivery in the parent can never delay an advert. It answers the
// parent's requests, forwards its bus events, and pushes status snapshots (with timer lateness samples).
// Transport-free: child-main.ts plugs it onto process IPC; unit tests plug a fake channel and a fake manager.
import { EventBus } from '../../events/bus.js';
import type { LvsEvent } from '../../events/types.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { VrrpConfig } from '../../config/types.js';
import type { VrrpControl, VrrpManagerDeps } from '../runtime/manager.js';
import { realRuntimeTimers, type RuntimeTimers } from '../runtime/timers.js';
import { LatenessSamples, sampledTimers } from './lateness.js';
import type { ChildSettings, FromChild, ToChild } from './protocol.js';

export interface ParentChannel {
  /** `done` runs once the message has left this process (or failed to). */
  send(msg: FromChild, done: (err: Error | null) => void): void;
}

export interface ChildDeps {
  channel: ParentChannel;
  makeLogger(settings: ChildSettings): Promise<Logger>;
  makeManager(config: VrrpConfig, deps: Pick<VrrpManagerDeps, 'logger' | 'bus' | 'timers' | 'vipBackend'>): VrrpControl;
  timers?: RuntimeTimers;
  /**
   * Puts the calling (main) thread into SCHED_RR (the native addon's setRealtime); undefined when the addon is
   * missing or predates it: VRRP then runs at normal scheduling, with one warning.
   */
  setRealtime?: (priority: number, rttimeUs: number) => void;
  /**
   * How many CPUs this process may run on (os.availableParallelism: its affinity mask). With one, the child does
   * not go real-time (see goRealtime). Undefined: assumed more than one (unit tests).
   */
  cpuCount?: () => number;
  /** Called after the reply to `stop` has been sent: the process ends. */
  exit(): void;
}

/** Messages that have not left the process yet; above these bounds status pushes and then events are dropped. */
const MAX_PENDING_STATUS = 64;
const MAX_PENDING = 1000;

export interface VrrpChild {
  handle(msg: ToChild): void;
  /** The parent is gone: stop as on SIGTERM (step down, release VIPs) and end. */
  parentGone(): Promise<void>;
}

export function createVrrpChild(deps: ChildDeps): VrrpChild {
  const timers = deps.timers ?? realRuntimeTimers;
  const samples = new LatenessSamples();
  let logger: Logger | undefined;
  let manager: VrrpControl | undefined;
  let statusTimer: unknown;
  let pending = 0;
  let droppedEvents = 0;
  let stopping: Promise<void> | undefined;
  let intervalMs = 1_000;

  const send = (msg: FromChild, droppable: 'status' | 'event' | 'never'): void => {
    const limit = droppable === 'status' ? MAX_PENDING_STATUS : droppable === 'event' ? MAX_PENDING : Infinity;
    if (pending >= limit) {
      // The parent is not reading (blocked or wedged): keep our own memory bounded, VRRP keeps running.
      if (droppable === 'event' && droppedEvents++ === 0) logger?.error({ pending }, 'parent is not reading VRRP events; dropping them until it does');
      return;
    }
    pending++;
    deps.channel.send(msg, () => {
      pending--;
      if (pending === 0 && droppedEvents > 0) {
        logger?.warn({ dropped: droppedEvents }, 'parent reads VRRP events again');
        droppedEvents = 0;
      }
    });
  };
  const pushStatus = (): void => {
    if (!manager) return;
    send({ t: 'status', status: manager.status(), ...samples.take() }, 'status');
  };
  const tick = (): void => {
    pushStatus();
    statusTimer = timers.setTimeout(tick, intervalMs);
  };
  const reply = (id: number, run: () => Promise<unknown>): void => {
    run().then(
      (value) => send({ t: 'reply', id, ok: true, value }, 'never'),
      (err: unknown) => send({ t: 'reply', id, ok: false, error: errorMessage(err) }, 'never'),
    );
  };

  const start = async (config: VrrpConfig, settings: ChildSettings): Promise<unknown> => {
    if (manager) throw new Error('VRRP child: start received twice');
    logger = await deps.makeLogger(settings);
    const bus = new EventBus<LvsEvent>({ onListenerError: (err) => logger?.error({ err: errorMessage(err) }, 'event listener failed') });
    bus.on((event) => {
      send({ t: 'event', event }, 'event');
      // The parent's status cache follows every state change at once, not only at the next tick.
      pushStatus();
    });
    intervalMs = settings.statusIntervalMs;
    manager = deps.makeManager(config, { logger, bus, timers: sampledTimers(timers, samples), vipBackend: settings.vipBackend });
    statusTimer = timers.setTimeout(tick, intervalMs);
    try {
      await manager.start();
    } finally {
      pushStatus();
    }
    // After the start, not before: module loading and the first setup burst are the longest stretches of CPU this
    // thread ever runs without sleeping, and under RLIMIT_RTTIME they would cost a kill and a restart for nothing.
    // The instances start in Backup and listen first, so no advert is due yet.
    goRealtime(settings);
    return undefined;
  };

  const goRealtime = (settings: ChildSettings): void => {
    const rt = settings.realtime;
    if (!rt || rt.priority <= 0) return;
    const fields = { priority: rt.priority, rttimeUs: rt.rttimeUs };
    // One CPU: a SCHED_RR thread there stops everything else on the machine (the daemon, the checks, the kernel's
    // threads) whenever it runs, and RLIMIT_RTTIME counts, in scheduler ticks, every tick it is on that CPU without
    // having slept, interrupt and softirq work of the whole machine included. Its ordinary bursts then reach the
    // limit and SIGXCPU ends VRRP: in the lab's single-CPU UML guest (HZ 100, so 10 ticks for the default 100 ms)
    // both directors' VRRP processes died of SIGXCPU every 17 to 98 s, and a director whose VRRP process is being
    // restarted cannot take over a planned step-down. On one CPU VRRP keeps global.vrrp_nice only.
    const cpus = deps.cpuCount?.();
    if (cpus !== undefined && cpus < 2) {
      logger?.warn(
        { ...fields, cpus },
        'not making the VRRP thread real-time (global.vrrp_rt_priority): this process can run on only one CPU, where a SCHED_RR thread would stall everything else whenever it runs and RLIMIT_RTTIME (global.vrrp_rlimit_rttime) would kill VRRP during ordinary bursts; VRRP runs at normal scheduling (global.vrrp_nice)',
      );
      return;
    }
    if (!deps.setRealtime) {
      logger?.warn(fields, 'cannot make the VRRP thread real-time (global.vrrp_rt_priority): the native addon is not loadable or was built before setRealtime (rebuild it with `npm run build:native`); VRRP runs at normal scheduling');
      return;
    }
    try {
      deps.setRealtime(rt.priority, rt.rttimeUs);
      logger?.info(fields, 'VRRP thread runs SCHED_RR (global.vrrp_rt_priority)');
    } catch (err) {
      // Never fatal: VRRP at normal scheduling is what it was before this setting existed.
      const code = (err as { code?: unknown }).code;
      logger?.warn(
        { ...fields, err: errorMessage(err) },
        code === 'EPERM'
          ? 'cannot make the VRRP thread real-time (global.vrrp_rt_priority needs CAP_SYS_NICE; with systemd add it to CapabilityBoundingSet and AmbientCapabilities); VRRP runs at normal scheduling, and its adverts may be late on a busy machine'
          : 'cannot make the VRRP thread real-time (global.vrrp_rt_priority); VRRP runs at normal scheduling',
      );
    }
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (statusTimer !== undefined) timers.clearTimeout(statusTimer);
      statusTimer = undefined;
      try {
        await manager?.stop();
      } finally {
        pushStatus();
        manager = undefined;
      }
    })();
    return stopping;
  };

  return {
    handle(msg) {
      switch (msg.t) {
        case 'start':
          reply(msg.id, () => start(msg.config, msg.settings));
          return;
        case 'reload':
          reply(msg.id, async () => {
            if (!manager) throw new Error('VRRP child: reload before start');
            const r = await manager.reload(msg.config);
            pushStatus();
            return r;
          });
          return;
        case 'stop':
          // The reply goes out before the process ends; `exit` waits for nothing else.
          stop().then(
            () => deps.channel.send({ t: 'reply', id: msg.id, ok: true }, () => deps.exit()),
            (err: unknown) => deps.channel.send({ t: 'reply', id: msg.id, ok: false, error: errorMessage(err) }, () => deps.exit()),
          );
          return;
        case 'step-down':
          manager?.stepDown(msg.name, msg.reason);
          pushStatus();
          return;
        case 'check-state':
          manager?.setCheckState(msg.virtualServer, msg.realServer, msg.up);
          return;
        case 'log-level':
          if (logger) logger.level = msg.level;
          return;
      }
    },
    async parentGone() {
      logger?.warn('the daemon process is gone; stopping VRRP (planned step-down) and exiting');
      await stop().catch((err: unknown) => logger?.error({ err: errorMessage(err) }, 'VRRP stop failed'));
      deps.exit();
    },
  };
}
