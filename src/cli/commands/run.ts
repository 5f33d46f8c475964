import { Option, type Command } from 'commander';
import { createLogger, type LogFormat } from '../../log/logger.js';
import type { LevelWithSilent } from 'pino';
import { configOption, logOptions } from '../program.js';
import { runDaemon } from '../../daemon/run.js';
import type { BackendName } from '../../daemon/ipvs-backend.js';
import { backendOption } from '../common.js';
import { loadConfigFile } from '../../config/load.js';

/** log.format of the config, so that it applies from the first line; JSON when the file cannot be read. */
async function configuredLogFormat(path: string): Promise<LogFormat> {
  const r = await loadConfigFile(path);
  return r.ok ? r.config.log.format : 'json';
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
    const format = opts.logFormat ?? (await configuredLogFormat(opts.config));
    const logger = await createLogger({ level: opts.logLevel ?? 'info', format });
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
