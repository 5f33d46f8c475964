import { Option, type Command } from 'commander';
import { createLogger, type LogFormat, type Logger } from '../../log/logger.js';
import type { LevelWithSilent } from 'pino';
import { configOption, logOptions } from '../program.js';
import { runDaemon } from '../../daemon/run.js';
import type { BackendName } from '../../daemon/ipvs-backend.js';
import { backendOption } from '../common.js';
import { formatIssue, loadConfigFile, type ConfigResult } from '../../config/load.js';
import { nativePreflight } from '../native-preflight.js';

/**
 * VRRP instances that need the native addon when it cannot be loaded: said before anything is touched (no IPVS
 * backend opened, no address moved). Errors (an instance with transport vrrp) stop the start; false then.
 */
function nativeReady(loaded: ConfigResult, logger: Logger): boolean {
  if (!loaded.ok) return true; // runDaemon reports the config's own errors
  const native = nativePreflight(loaded.config.vrrp, loaded.place);
  for (const w of native.warnings) logger.warn({ issue: w }, formatIssue(w));
  for (const e of native.errors) logger.error({ issue: e }, formatIssue(e));
  if (native.errors.length === 0) return true;
  logger.error({ instances: native.errors.length }, 'VRRP cannot run without the native addon; not starting');
  return false;
}

export function registerRun(program: Command): void {
  logOptions(
    program
      .command('run')
      .description('run the daemon in the foreground (systemd starts it this way)')
      .addOption(configOption())
      .addOption(backendOption())
      .addOption(new Option('--dry-run', 'keep the IPVS table in memory instead of the kernel, and log it after each change')),
  ).action(async (opts: { config: string; backend?: BackendName; dryRun?: boolean; logLevel?: LevelWithSilent; logFormat?: LogFormat }) => {
    const loaded = await loadConfigFile(opts.config);
    // log.format of the config applies from the first line; JSON when the file cannot be read.
    const format = opts.logFormat ?? (loaded.ok ? loaded.config.log.format : 'json');
    const logger = await createLogger({ level: opts.logLevel ?? 'info', format });
    // A dry run never starts VRRP, so it does not need the addon.
    if (!opts.dryRun && !nativeReady(loaded, logger)) {
      process.exitCode = 1;
      return;
    }
    process.exitCode = await runDaemon({
      configPath: opts.config,
      logger,
      logFormat: format,
      cliLogLevel: opts.logLevel,
      ...(opts.dryRun ? { dryRun: true } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
  });
}
