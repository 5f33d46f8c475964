// Starts and stops every configured VRRP instance and sync group, feeds tracking (interfaces, scripts, pool
// checks reported by the daemon) into them, and reloads a new configuration keeping unchanged instances running.
import type { EventBus } from '../../events/bus.js';
import type { LvsEvent, VrrpState } from '../../events/types.js';
import type { VrrpConfig, VrrpInstanceConfig as InstanceConfigFromFile } from '../../config/types.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { createAnnouncementSender, type AnnouncementSender } from '../../vip/announce.js';
import { createVipManager } from '../../vip/index.js';
import type { VipManager } from '../../vip/types.js';
import type { TrackedObject } from '../tracking.js';
import { createVrrpTransport } from '../transport/index.js';
import { tryLoadNativeAddon } from '../transport/native.js';
import type { TransportOptions } from '../transport/options.js';
import type { VrrpTransport } from '../transport/types.js';
import { VrrpSyncGroupRunner } from './group.js';
import { VrrpInstance, type VrrpInstanceStatus } from './instance.js';
import { createProcConnPusher, type ConnPusher } from '../../ipvs/conn-sync/pusher.js';
import { ConnHandover } from './conn-handover.js';
import { ResetGuardController, tcBatchRunner } from './reset-guard-tc.js';
import { lazySyncBackend, LvsSyncController, type LvsSyncStatus, type SyncDaemonBackend } from './lvs-sync.js';
import { buildInstanceSpec, choosePrimaryAddress, vipsFromConfig } from './spec.js';
import { ACCEPT_ENFORCED_NOTE, stateHintNote } from './startup-policy.js';
import { enforcesAcceptMode } from '../accept-mode.js';
import { AcceptModeController, nftAcceptFilter, type AcceptFilter } from './accept-filter.js';
import { openLinkEvents, type LinkEventSource } from './link-events.js';
import { LINK_POLL_MS, watchInterfaces } from './link-watch.js';
import { operstateIsUp, readOperstate, runTrackScripts, spawnScriptRunner, type ScriptRunner, type Stoppable } from './track-sources.js';
import { realRuntimeTimers, type RuntimeTimers } from './timers.js';

export interface VrrpManagerDeps {
  logger: Logger;
  bus?: EventBus<LvsEvent>;
  vipBackend?: 'netlink' | 'iproute2' | 'auto';
  /** Injected instead of creating one from vipBackend (tests). */
  vipManager?: VipManager;
  announcer?: AnnouncementSender;
  transportFactory?: (kind: 'raw' | 'udp', opts: TransportOptions) => Promise<VrrpTransport>;
  timers?: RuntimeTimers;
  /** Link-state polling period (ms) when link notifications are unavailable; default 200. */
  linkPollMs?: number;
  /** Link-state polling period (ms) while link notifications arrive (a safety net); default 5000. */
  linkSafetyPollMs?: number;
  /**
   * Opens the link notifications (once, on first use); default: rtnetlink RTNLGRP_LINK in this process's
   * namespace. null: poll only. When opening fails the manager polls every linkPollMs.
   */
  linkEvents?: (() => Promise<LinkEventSource>) | null;
  /** Reads /sys/class/net/<if>/operstate by default. */
  readOperstate?: (ifname: string) => Promise<string | undefined>;
  /** Runs `notify` commands; spawns them (no shell, own process group, killed on timeout) by default. */
  notifyRunner?: ScriptRunner;
  /** Enforces `accept: false` (drops traffic to a non-owner Master's VIPs); default: nftables via `nft`. */
  acceptFilter?: AcceptFilter;
  /** Limit for one notify run; default 10 s. */
  notifyTimeoutMs?: number;
  /**
   * Opens the IPVS sync-daemon control for instances with `lvs_sync` (once, on first use); default: the IPVS
   * generic netlink backend in this process's network namespace, run on a worker thread (sync-worker/).
   */
  syncDaemonBackend?: () => Promise<SyncDaemonBackend & { close?(): Promise<void> }>;
  /**
   * Sends the connection table to the backup sync daemons when an lvs_sync instance leaves MASTER (lvs_sync.handover);
   * default: read from /proc, multicast from this process. null: never.
   */
  connPusher?: (() => ConnPusher) | null;
  /** Keeps the reset guard's tc filters (lvs_sync.reset_grace); default: `tc -batch`. null: never. */
  resetGuard?: ResetGuardController | null;
  /** Timing of the sync-daemon controller (tests). */
  lvsSyncTiming?: { retryMs?: number; requestTimeoutMs?: number; stopAnswerMs?: number; stopGoneMs?: number; pollMs?: number };
}

/** Runs an instance's notify command per state change, one at a time in order, with a bounded backlog. */
function notifier(c: InstanceConfigFromFile, runner: ScriptRunner, timeoutMs: number, logger: Logger): ((change: { to: string; priority: number }) => void) | undefined {
  const command = c.notify;
  if (!command) return undefined;
  let chain: Promise<void> = Promise.resolve();
  let backlog = 0;
  return (change) => {
    if (backlog >= 100) {
      logger.error({ instance: c.name, state: change.to }, 'notify backlog full; state change not notified');
      return;
    }
    backlog++;
    // keepalived's convention: INSTANCE <name> <STATE> <priority>.
    const argv = [...command, 'INSTANCE', c.name, change.to, String(change.priority)];
    chain = chain.then(async () => {
      let r: { ok: boolean; detail: string };
      try {
        r = await runner(argv, timeoutMs, c.notify_user);
      } catch (err) {
        r = { ok: false, detail: errorMessage(err) };
      }
      backlog--;
      if (!r.ok) logger.warn({ instance: c.name, command: argv.join(' '), detail: r.detail }, 'notify command failed');
    });
  };
}

/** An instance's status as the manager reports it: with its IPVS connection sync when lvs_sync is configured. */
export interface ManagedInstanceStatus extends VrrpInstanceStatus {
  lvsSync?: LvsSyncStatus & { interface: string; syncId: number };
}

export interface VrrpManager {
  start(): Promise<void>;
  /** Planned stop of every instance (masters hand over with priority 0 first). */
  stop(): Promise<void>;
  /** Apply a new vrrp section: unchanged instances keep their state, others are stopped/started. */
  reload(next: VrrpConfig): Promise<{ kept: string[]; started: string[]; stopped: string[] }>;
  status(): ManagedInstanceStatus[];
  instance(name: string): VrrpInstance | undefined;
  /** Step down one instance, or every master when no name is given. */
  stepDown(name?: string, reason?: string): void;
  /** Health of a tracked virtual server (or one real server of it), from the daemon's pools. */
  setCheckState(virtualServer: string, realServer: string | undefined, up: boolean): void;
}

/**
 * What the daemon uses of a VRRP manager: the same whether the manager runs in this process (tests, the VRRP
 * agent) or in the supervised child process (src/vrrp/process). `instance()` exists only in-process.
 */
export type VrrpControl = Omit<VrrpManager, 'instance'>;

interface Running {
  config: InstanceConfigFromFile;
  key: string;
  instance: VrrpInstance;
  sources: Stoppable[];
  /** The IPVS sync daemons following this instance (lvs_sync). */
  lvsSync?: LvsSyncController;
  /** The connection hand-over of an lvs_sync instance that leaves MASTER. */
  handover?: ConnHandover;
  /** Takes the instance's reset guard down (stop). */
  unguard?: () => void;
  /** Resolves when the sync-daemon follows queued so far have been handed to lvsSync. */
  syncSettled(): Promise<void>;
}

function instanceStatus(r: Running): ManagedInstanceStatus {
  const status: ManagedInstanceStatus = r.instance.status();
  if (r.lvsSync) status.lvsSync = { ...r.lvsSync.status(), interface: r.lvsSync.settings.interface, syncId: r.lvsSync.settings.syncId };
  return status;
}

export function checkObjectName(virtualServer: string, realServer?: string): string {
  return realServer === undefined ? virtualServer : `${virtualServer} ${realServer}`;
}

function trackedFromConfig(c: InstanceConfigFromFile): TrackedObject[] {
  const out: TrackedObject[] = [];
  for (const t of c.track.interfaces) out.push({ kind: 'interface', name: t.name, weight: t.weight, reverse: t.reverse, up: true });
  for (const t of c.track.scripts) out.push({ kind: 'script', name: t.name, weight: t.weight, reverse: t.reverse, up: true });
  for (const t of c.track.checks) out.push({ kind: 'pool', name: checkObjectName(t.virtual_server, t.real_server), weight: t.weight, reverse: t.reverse, up: true });
  return out;
}

export function createVrrpManager(initial: VrrpConfig, deps: VrrpManagerDeps): VrrpManager {
  const logger = deps.logger;
  const timers = deps.timers ?? realRuntimeTimers;
  const read = deps.readOperstate ?? readOperstate;
  let config = initial;
  let vips: VipManager | undefined = deps.vipManager;
  let announcer: AnnouncementSender | undefined = deps.announcer;
  const running = new Map<string, Running>();
  let groups: VrrpSyncGroupRunner[] = [];
  const transportFactory = deps.transportFactory ?? ((kind, opts) => createVrrpTransport(kind, opts, { logger }));
  const acceptMode = new AcceptModeController(deps.acceptFilter ?? nftAcceptFilter(), logger);
  // Created on first use: only lvs_sync instances with a reset_grace have a guard.
  let resetGuard: ResetGuardController | undefined;
  const guard = (): ResetGuardController | undefined => {
    if (deps.resetGuard === null) return undefined;
    resetGuard ??= deps.resetGuard ?? new ResetGuardController(tcBatchRunner(), logger);
    return resetGuard;
  };
  let linkEvents: Promise<LinkEventSource | undefined> | undefined;
  const openLinks = deps.linkEvents === undefined ? () => openLinkEvents(logger) : deps.linkEvents;
  /** The shared notification socket, or undefined (polling) when there is none or it cannot be opened. */
  const linkEventSource = (): Promise<LinkEventSource | undefined> => {
    linkEvents ??= openLinks
      ? openLinks().catch((err: unknown) => {
          logger.warn({ err: errorMessage(err), pollMs: deps.linkPollMs ?? LINK_POLL_MS }, 'rtnetlink link notifications unavailable; polling interface states instead');
          return undefined;
        })
      : Promise.resolve(undefined);
    return linkEvents;
  };
  // One kernel connection for every lvs_sync instance, opened only when one exists.
  const syncBackend = lazySyncBackend(
    deps.syncDaemonBackend ??
      // On a worker thread: the kernel runs each request inside sendmsg, and a daemon switch takes hundreds of
      // ms that must not delay this thread's VRRP timers (src/lab/README.md, step-down finding).
      (async () => {
        const { createSyncWorkerProxy, spawnSyncWorker } = await import('./sync-worker/proxy.js');
        return createSyncWorkerProxy({ spawn: spawnSyncWorker(30_000), logger });
      }),
  );

  const ensureDeps = async (): Promise<{ vips: VipManager; announcer: AnnouncementSender }> => {
    vips ??= await createVipManager(deps.vipBackend ?? 'auto', { logger });
    announcer ??= createAnnouncementSender(tryLoadNativeAddon());
    return { vips, announcer };
  };

  /**
   * Resolves when the VIP changes and announcements queued so far by `name`, and by every member of its sync
   * group, are done, and one timer turn later (a first gratuitous ARP due now has gone out). Sync-daemon changes
   * wait for this: a group's members add and announce their VIPs in one burst on becoming master (and release
   * them together), with no sync-daemon request in between (src/lab/README.md: NAT planned switchover losses).
   * Runs from a promise callback, so a group step applying its members one after the other has finished.
   */
  const afterVipWork = async (name: string, self: VrrpInstance | undefined): Promise<void> => {
    const group = groups.find((g) => g.group.members.includes(name));
    const members = group ? group.instances() : self ? [self] : [];
    await Promise.all(members.map((i) => i.whenIoIdle()));
    await new Promise<void>((resolve) => timers.setTimeout(resolve, 0));
  };

  /** Build (not start) one instance: resolve its source address, open its transport. */
  const create = async (c: InstanceConfigFromFile): Promise<Running> => {
    const d = await ensureDeps();
    const where = `vrrp instance ${c.name} (interface ${c.interface})`;
    let primary: string | undefined;
    try {
      primary = choosePrimaryAddress(c, await d.vips.list(c.interface));
    } catch (err) {
      throw new Error(`${where}: cannot list addresses: ${errorMessage(err)}`, { cause: err });
    }
    if (primary === undefined) throw new Error(`${where}: the interface has no usable IPv${c.virtual_ips[0]?.address.family ?? 4} address to send adverts from`);
    const spec = buildInstanceSpec(c, primary);
    let transport: VrrpTransport;
    try {
      transport = await transportFactory(spec.transportKind, spec.transport);
    } catch (err) {
      throw new Error(`${where}: cannot open the ${spec.transportKind} transport: ${errorMessage(err)}`, { cause: err });
    }
    const notify = notifier(c, deps.notifyRunner ?? spawnScriptRunner, deps.notifyTimeoutMs ?? 10_000, logger);
    const lvsSync = c.lvs_sync
      ? new LvsSyncController(c.name, { interface: c.lvs_sync.interface, syncId: c.lvs_sync.sync_id }, { backend: syncBackend, logger, bus: deps.bus, timers, ...deps.lvsSyncTiming })
      : undefined;
    const pusherFactory = deps.connPusher === undefined ? () => createProcConnPusher() : deps.connPusher;
    const handover =
      c.lvs_sync && c.lvs_sync.handover && pusherFactory
        ? new ConnHandover(c.name, { interface: c.lvs_sync.interface, syncId: c.lvs_sync.sync_id }, { pusher: pusherFactory(), logger, timers })
        : undefined;
    const grace = c.lvs_sync?.reset_grace ?? 0;
    const guardCtl = c.lvs_sync && grace > 0 ? guard() : undefined;
    let graceTimer: unknown;
    /** Guard up while BACKUP/FAULT, for reset_grace after becoming MASTER, down otherwise. */
    const followGuard = (to: VrrpState | undefined): void => {
      if (!guardCtl) return;
      if (graceTimer !== undefined) timers.clearTimeout(graceTimer);
      graceTimer = undefined;
      if (to === 'BACKUP' || to === 'FAULT') guardCtl.update(c.name, spec.vips);
      else if (to === 'MASTER')
        graceTimer = timers.setTimeout(() => {
          graceTimer = undefined;
          guardCtl.update(c.name, undefined);
        }, grace);
      else guardCtl.update(c.name, undefined);
    };
    const fromState = { INIT: 'Initialize', BACKUP: 'Backup', MASTER: 'Master', FAULT: 'Fault' } as const;
    const vipAddresses = spec.vips.map((v) => v.address);
    // The instance, once built (its state-change hook is created first).
    const self: { instance?: VrrpInstance } = {};
    let syncChain: Promise<void> = Promise.resolve();
    const onStateChange = (change: { instance: string; from: VrrpState; to: VrrpState; priority: number; reason: string }): void => {
      // Before anything else: clients keep reaching this director until the new master's ARP announcements land.
      if (change.from === 'MASTER' && change.to !== 'MASTER') handover?.start();
      else if (change.to === 'MASTER') handover?.cancel();
      followGuard(change.to);
      if (lvsSync) {
        // After the VIP work of the whole sync group (see afterVipWork), in state-change order.
        const to = fromState[change.to];
        syncChain = syncChain
          .then(() => afterVipWork(c.name, self.instance))
          .then(() => lvsSync.follow(to))
          .catch((err: unknown) => logger.error({ instance: c.name, err: errorMessage(err) }, 'IPVS sync daemon change not started'));
      }
      acceptMode.update(c.name, { master: change.to === 'MASTER', accept: c.accept, priority: c.priority, vips: vipAddresses });
      notify?.(change);
    };
    if (c.state_hint !== undefined) logger.info({ instance: c.name, state_hint: c.state_hint, priority: c.priority }, stateHintNote(c.state_hint, c.priority));
    if (enforcesAcceptMode(c)) logger.info({ instance: c.name }, ACCEPT_ENFORCED_NOTE);
    const instance = new VrrpInstance(spec, { transport, vips: d.vips, announcer: d.announcer, logger, bus: deps.bus, timers, tracked: trackedFromConfig(c), onStateChange });
    self.instance = instance;
    const r: Running = { config: c, key: JSON.stringify(c), instance, sources: [], syncSettled: () => syncChain };
    if (lvsSync) r.lvsSync = lvsSync;
    if (handover) r.handover = handover;
    if (guardCtl) r.unguard = () => followGuard(undefined);
    return r;
  };

  /** Read link states now (so startup sees them), start the instance, then keep watching. */
  const launch = async (r: Running): Promise<void> => {
    const c = r.config;
    const weighted = new Map(c.track.interfaces.map((t) => [t.name, t]));
    const names = [...new Set([c.interface, ...weighted.keys()])];
    const linkUpdate = (name: string, up: boolean): { kind: 'interface'; name: string; up: boolean } => ({ kind: 'interface', name, up });
    const events = await linkEventSource();
    const states = await Promise.all(names.map(async (n) => linkUpdate(n, operstateIsUp(await read(n)))));
    r.instance.setTrackedState(states);
    await r.instance.start();
    r.sources.push(
      watchInterfaces(names, (name, up, detail) => {
        logger.info({ instance: c.name, detail }, 'tracked interface changed');
        r.instance.setTrackedState([linkUpdate(name, up)]);
      }, { intervalMs: deps.linkPollMs, safetyPollMs: deps.linkSafetyPollMs, events, read, timers, logger }),
    );
    if (c.track.scripts.length > 0) {
      const scripts = c.track.scripts.map((s) => ({ name: s.name, command: s.command, intervalMs: s.interval, timeoutMs: s.timeout, rise: s.rise, fall: s.fall, ...(s.user ? { user: s.user } : {}) }));
      r.sources.push(
        runTrackScripts(scripts, (name, up, detail) => {
          logger.info({ instance: c.name, detail }, 'track script changed');
          r.instance.setTrackedState([{ kind: 'script', name, up }]);
        }, { timers }),
      );
    }
  };

  const halt = async (r: Running): Promise<void> => {
    for (const s of r.sources) s.stop();
    try {
      await r.instance.stop();
    } finally {
      acceptMode.update(r.config.name, undefined);
      r.unguard?.();
      // Deferred follows first: one that ran after close() would start a daemon again.
      await r.syncSettled();
      // The last hand-over push first (the process may end right after), then the sync daemons: stopped VRRP owns
      // no connections (keepalived stops them on shutdown too).
      await r.handover?.close();
      await r.lvsSync?.close();
    }
  };

  const rebuildGroups = (): void => {
    for (const g of groups) g.detach();
    groups = [];
    const instances = [...running.values()].map((r) => r.instance);
    for (const g of config.sync_groups) {
      try {
        groups.push(new VrrpSyncGroupRunner({ name: g.name, members: g.instances }, instances, logger, timers));
      } catch (err) {
        logger.error({ group: g.name, err: errorMessage(err) }, 'sync group not started');
      }
    }
  };

  const startAll = async (list: readonly InstanceConfigFromFile[]): Promise<string[]> => {
    const created: Running[] = [];
    const errors: string[] = [];
    for (const c of list) {
      try {
        const r = await create(c);
        running.set(c.name, r);
        created.push(r);
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    rebuildGroups();
    for (const r of created) {
      try {
        await launch(r);
      } catch (err) {
        errors.push(`vrrp instance ${r.config.name}: start failed: ${errorMessage(err)}`);
      }
    }
    return errors;
  };

  return {
    async start(): Promise<void> {
      // Drop rules a previous run left (crash, kill -9). Without nft only instances that need it cannot start.
      let acceptProblem: string | undefined;
      await acceptMode.reset().catch((err: unknown) => {
        acceptProblem = errorMessage(err);
        logger.debug({ err: acceptProblem }, 'no stale accept-mode rules removed');
      });
      const blocked = acceptProblem === undefined ? [] : config.instances.filter(enforcesAcceptMode);
      const guardedDevs = config.instances.filter((c) => (c.lvs_sync?.reset_grace ?? 0) > 0).flatMap((c) => vipsFromConfig(c).map((v) => v.dev));
      if (guardedDevs.length > 0) await guard()?.cleanup(guardedDevs);
      const errors = await startAll(config.instances.filter((c) => !blocked.includes(c)));
      for (const c of blocked) errors.push(`vrrp instance ${c.name}: accept: false needs nftables to drop traffic to its VIPs: ${acceptProblem ?? ''}`);
      if (errors.length > 0) throw new Error(`VRRP: ${errors.length} instance(s) failed to start:\n${errors.join('\n')}`);
    },

    async stop(): Promise<void> {
      const all = [...running.values()];
      running.clear();
      await Promise.all(all.map((r) => halt(r).catch((err: unknown) => logger.error({ instance: r.config.name, err: errorMessage(err) }, 'VRRP instance stop failed'))));
      for (const g of groups) g.detach();
      groups = [];
      await acceptMode.close().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'accept-mode rules not removed'));
      await resetGuard?.close();
      await vips?.close();
      await syncBackend.close();
      const events = linkEvents;
      linkEvents = undefined;
      (await events)?.close();
    },

    async reload(next: VrrpConfig) {
      const wanted = new Map(next.instances.map((c) => [c.name, c]));
      const kept: string[] = [];
      const stopped: string[] = [];
      const halting: Promise<void>[] = [];
      for (const [name, r] of [...running]) {
        const c = wanted.get(name);
        if (c && JSON.stringify(c) === r.key) {
          kept.push(name);
          continue;
        }
        running.delete(name);
        stopped.push(name);
        // In parallel: each master's hand-over may wait up to its Master_Down_Interval.
        halting.push(halt(r).catch((err: unknown) => logger.error({ instance: name, err: errorMessage(err) }, 'VRRP instance stop failed')));
      }
      await Promise.all(halting);
      config = next;
      const toStart = next.instances.filter((c) => !running.has(c.name));
      const errors = await startAll(toStart);
      if (errors.length > 0) logger.error({ errors }, 'VRRP reload: some instances failed to start');
      return { kept, started: toStart.map((c) => c.name).filter((n) => running.has(n)), stopped };
    },

    status: () => [...running.values()].map(instanceStatus),
    instance: (name) => running.get(name)?.instance,

    stepDown(name?: string, reason = 'operator request'): void {
      for (const r of running.values()) {
        if (name !== undefined && r.config.name !== name) continue;
        if (r.instance.state.state === 'Master') r.instance.stepDown(reason);
      }
    },

    setCheckState(virtualServer, realServer, up): void {
      const objName = checkObjectName(virtualServer, realServer);
      for (const r of running.values()) {
        if (r.instance.trackedObjects().some((o) => o.kind === 'pool' && o.name === objName)) r.instance.setTrackedState([{ kind: 'pool', name: objName, up }]);
      }
    },
  };
}
