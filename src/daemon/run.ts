import type { LevelWithSilent } from 'pino';
import { loadConfigFile, formatIssue } from '../config/load.js';
import type { LvskeepConfig } from '../config/types.js';
import { createEvent } from '../events/types.js';
import type { IpvsBackend } from '../ipvs/backend.js';
import type { Logger, LogFormat } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { VERSION } from '../version.js';
import { buildDaemon, type Daemon, type DaemonDeps } from './build.js';
import { openIpvsBackend, type BackendName } from './ipvs-backend.js';
import type { ReloadOutcome } from './control.js';
import { prepareDirector } from '../director/prepare.js';
import { readEffectiveCaps, scriptUserProblem } from './script-users.js';

export interface RunOptions {
  configPath: string;
  logger: Logger;
  /** The format of the logger (the VRRP child process logs in the same one). */
  logFormat?: LogFormat;
  /** A level given on the command line wins over the config file's. */
  cliLogLevel?: LevelWithSilent | undefined;
  /** Tests pass their own signal source instead of the process. */
  signals?: NodeJS.EventEmitter;
  /** Use the in-memory IPVS table instead of the kernel (and log it after each change). */
  dryRun?: boolean;
  /** Overrides the config's backend.ipvs. */
  backend?: BackendName;
  /** Tests: a ready backend and other daemon dependencies. */
  openBackend?: (name: BackendName) => Promise<IpvsBackend>;
  daemonDeps?: Partial<Omit<DaemonDeps, 'logger' | 'backend'>>;
  /** Tests: instead of writing /proc/sys. */
  prepareDirector?: typeof prepareDirector;
  /** Serve the control socket; default true. */
  control?: boolean;
  /** Serve metrics when the config enables them; default true. */
  metrics?: boolean;
  /** Persist operator states in global.state_dir; default true (never in a dry run). */
  state?: boolean;
  /** Tests: the effective capabilities instead of /proc/self/status. */
  effectiveCaps?: () => bigint | undefined;
}

/**
 * The foreground daemon: load and validate the config, build and start every part, then live until
 * SIGTERM/SIGINT. SIGHUP re-reads the config: an invalid one is rejected with its errors (and a
 * daemon.reload_failed event) and the running one is kept; a valid one is applied as a diff.
 * Resolves with the process exit code.
 */
export async function runDaemon(opts: RunOptions): Promise<number> {
  const { logger } = opts;
  const signals = opts.signals ?? process;
  const first = await loadConfigFile(opts.configPath);
  if (!first.ok) {
    for (const issue of first.errors) logger.error({ issue }, formatIssue(issue));
    logger.error({ config: opts.configPath, errors: first.errors.length }, 'configuration is invalid; not starting');
    return 1;
  }
  const config: LvskeepConfig = first.config;
  applyLogLevel(logger, config, opts.cliLogLevel);
  for (const w of first.warnings) logger.warn({ issue: w }, formatIssue(w));
  const userProblem = (c: LvskeepConfig): string | undefined =>
    scriptUserProblem(c, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, (opts.effectiveCaps ?? readEffectiveCaps)());
  const startProblem = userProblem(config);
  if (startProblem) {
    logger.error({ config: opts.configPath }, startProblem);
    logger.error({ config: opts.configPath }, 'configuration cannot run here; not starting');
    return 1;
  }

  const backendName: BackendName = opts.dryRun ? 'memory' : (opts.backend ?? config.backend.ipvs);
  let backend: IpvsBackend;
  try {
    backend = await (opts.openBackend ?? ((name) => openIpvsBackend(name, logger)))(backendName);
  } catch (err) {
    logger.error({ backend: backendName, err: errorMessage(err) }, 'cannot open the IPVS backend; not starting');
    return 1;
  }

  let reloads: Promise<unknown> = Promise.resolve();
  const reload = (source: string): Promise<ReloadOutcome> => {
    // One reload at a time, in order; each reads the newest file. (Only called once `daemon` exists.)
    const mine = reloads.then(() => reloadFrom(daemon, source));
    reloads = mine;
    return mine;
  };
  const reloadFrom = async (d: Daemon, source: string): Promise<ReloadOutcome> => {
    const fail = (error: string): ReloadOutcome => {
      d.bus.emit(createEvent({ type: 'daemon.reload_failed', source, error }, Date.now()));
      return { ok: false, error };
    };
    const next = await loadConfigFile(opts.configPath).catch((err: unknown) => ({ ok: false as const, errors: [], thrown: errorMessage(err) }));
    if (!next.ok) {
      for (const issue of next.errors) logger.error({ issue }, formatIssue(issue));
      logger.error({ config: opts.configPath, source }, 'reload failed: new configuration is invalid; keeping the running one');
      const firstIssue = next.errors[0];
      return fail(firstIssue ? `${next.errors.length} error(s), first: ${formatIssue(firstIssue)}` : 'thrown' in next ? next.thrown : 'invalid configuration');
    }
    for (const w of next.warnings) logger.warn({ issue: w }, formatIssue(w));
    const problem = userProblem(next.config);
    if (problem) {
      logger.error({ config: opts.configPath, source }, `reload failed: ${problem}; keeping the running configuration`);
      return fail(problem);
    }
    try {
      const summary = await d.reload(next.config, source);
      applyLogLevel(logger, next.config, opts.cliLogLevel);
      return { ok: true, summary };
    } catch (err) {
      logger.error({ config: opts.configPath, source, err: errorMessage(err) }, 'reload failed; keeping the running configuration');
      return fail(errorMessage(err));
    }
  };

  if (opts.dryRun && config.vrrp.instances.length > 0) logger.warn({ instances: config.vrrp.instances.length }, 'dry run: VRRP is not started (it would move real addresses)');
  const daemon = buildDaemon(config, {
    ...(opts.dryRun ? { vrrpFactory: () => undefined } : {}),
    ...(opts.logFormat ? { logFormat: opts.logFormat } : {}),
    ...opts.daemonDeps,
    logger,
    backend,
    traceTable: backendName === 'memory',
    control: opts.control ?? true,
    metrics: opts.metrics ?? true,
    // A dry run changes nothing on the host, its state file included.
    state: !opts.dryRun && (opts.state ?? true),
    requestReload: (source) => reload(source),
  });

  // From here on parts may be running (VRRP process, control socket, table writes): a SIGTERM/SIGINT must stop
  // them in order and a SIGHUP must not end the process (both default actions would kill it half started).
  // Until start() is done they are noted, and acted on once it is.
  const early = { stop: undefined as string | undefined, hup: false, wake: undefined as (() => void) | undefined };
  const earlyStop = (signal: string) => (): void => {
    if (early.stop) return;
    early.stop = signal;
    logger.info({ signal }, 'stop requested while starting; stopping as soon as the start is done');
    early.wake?.();
  };
  const earlyHup = (): void => {
    early.hup = true;
    logger.info({ signal: 'SIGHUP' }, 'reload requested while starting; reloading once started');
  };
  const early$ = { SIGTERM: earlyStop('SIGTERM'), SIGINT: earlyStop('SIGINT'), SIGHUP: earlyHup };
  for (const [sig, fn] of Object.entries(early$)) signals.on(sig, fn);
  const dropEarly = (): void => {
    for (const [sig, fn] of Object.entries(early$)) signals.off(sig, fn);
  };

  if (config.director.sysctls === 'auto' && !opts.dryRun) {
    // NAT needs forwarding and no ICMP redirects; failing to set them is logged, VRRP and checks still run.
    try {
      const report = await (opts.prepareDirector ?? prepareDirector)(config);
      for (const c of report.changes) logger.info({ sysctl: c.key, from: c.from, to: c.to, why: c.why }, 'director sysctl set');
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'director.sysctls auto: could not set the director sysctls');
    }
  }
  if (config.global.startup_delay > 0 && !early.stop) {
    logger.info({ ms: config.global.startup_delay }, 'waiting startup_delay before starting');
    await new Promise<void>((r) => {
      const t = setTimeout(r, config.global.startup_delay);
      early.wake = () => {
        clearTimeout(t);
        r();
      };
    });
    early.wake = undefined;
  }
  if (early.stop) {
    dropEarly();
    logger.info({ signal: early.stop }, 'lvskeep stopping before it started');
    await daemon.stop(early.stop).catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'stop failed'));
    return 0;
  }
  try {
    await daemon.start();
  } catch (err) {
    dropEarly();
    logger.error({ err: errorMessage(err) }, 'lvskeep could not start');
    await daemon.stop('start failed').catch(() => undefined);
    return 1;
  }
  logger.info({ version: VERSION, config: opts.configPath, pid: process.pid, backend: backendName }, 'lvskeep started');

  return await new Promise<number>((resolve) => {
    // Signal handlers alone do not keep Node's event loop alive; checks may be zero, so this timer does.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    const onHup = (): void => void reload('SIGHUP');
    const onStop = (signal: string) => (): void => {
      clearInterval(keepAlive);
      signals.off('SIGHUP', onHup);
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      logger.info({ signal }, 'lvskeep stopping');
      void reloads
        .then(() => daemon.stop(signal))
        .then(
          () => resolve(0),
          (err: unknown) => {
            logger.error({ err: errorMessage(err) }, 'stop failed');
            resolve(1);
          },
        );
    };
    const onTerm = onStop('SIGTERM');
    const onInt = onStop('SIGINT');
    signals.on('SIGHUP', onHup);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
    // Installed in the same turn as the handlers above, so no signal falls between the two sets.
    dropEarly();
    if (early.stop) (early.stop === 'SIGINT' ? onInt : onTerm)();
    else if (early.hup) onHup();
  });
}

function applyLogLevel(logger: Logger, config: LvskeepConfig, cli: LevelWithSilent | undefined): void {
  logger.level = cli ?? config.log.level;
}
