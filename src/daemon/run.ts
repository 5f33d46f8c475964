import type { Logger } from '../log/logger.js';
import type { LevelWithSilent } from 'pino';
import { loadConfigFile, formatIssue } from '../config/load.js';
import type { LvskeepConfig } from '../config/types.js';
import { VERSION } from '../version.js';

export interface RunOptions {
  configPath: string;
  logger: Logger;
  /** A level given on the command line wins over the config file's. */
  cliLogLevel?: LevelWithSilent | undefined;
  /** Tests pass their own signal source instead of the process. */
  signals?: NodeJS.EventEmitter;
}

/**
 * The foreground daemon. Loads and validates the config, then lives until SIGTERM/SIGINT. SIGHUP re-reads the
 * config: an invalid one is rejected with its errors and the running one is kept.
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
  let config: LvskeepConfig = first.config;
  applyLogLevel(logger, config, opts.cliLogLevel);
  for (const w of first.warnings) logger.warn({ issue: w }, formatIssue(w));
  logger.info({ version: VERSION, config: opts.configPath, pid: process.pid }, 'lvskeep started');

  return await new Promise<number>((resolve) => {
    // Signal handlers alone do not keep Node's event loop alive; until sockets and timers of the real
    // capabilities hold it open, this timer does.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    let reloading = false;
    const onHup = (): void => {
      if (reloading) return; // a reload already running will read the newest file anyway
      reloading = true;
      void loadConfigFile(opts.configPath)
        .then((next) => {
          if (!next.ok) {
            for (const issue of next.errors) logger.error({ issue }, formatIssue(issue));
            logger.error({ config: opts.configPath }, 'reload failed: new configuration is invalid; keeping the running one');
            return;
          }
          config = next.config;
          applyLogLevel(logger, config, opts.cliLogLevel);
          logger.info({ config: opts.configPath }, 'configuration reloaded');
        })
        .catch((err: unknown) => logger.error({ err }, 'reload failed'))
        .finally(() => {
          reloading = false;
        });
    };
    const onStop = (signal: string) => (): void => {
      clearInterval(keepAlive);
      signals.off('SIGHUP', onHup);
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      logger.info({ signal }, 'lvskeep stopping');
      resolve(0);
    };
    const onTerm = onStop('SIGTERM');
    const onInt = onStop('SIGINT');
    signals.on('SIGHUP', onHup);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
  });
}

function applyLogLevel(logger: Logger, config: LvskeepConfig, cli: LevelWithSilent | undefined): void {
  logger.level = cli ?? config.log.level;
}
