import type { Command } from 'commander';
import { Option } from 'commander';
import { createLogger, type LogFormat } from '../../log/logger.js';
import type { LevelWithSilent } from 'pino';
import { configOption, logOptions } from '../program.js';
import { runDaemon } from '../../daemon/run.js';
import type { BackendName } from '../../daemon/ipvs-backend.js';
import { backendOption } from '../common.js';

export function registerRun(program: Command): void {
  logOptions(
    program
      .command('run')
      .description('run the daemon in the foreground (systemd starts it this way)')
      .addOption(configOption())
      .addOption(backendOption())
      .addOption(new Option('--dry-run', 'keep the IPVS table in memory instead of the kernel, and log it after each change')),
  ).action(async (opts: { config: string; backend?: BackendName; dryRun?: boolean; logLevel?: LevelWithSilent; logFormat?: LogFormat }) => {
    const logger = await createLogger({ level: opts.logLevel ?? 'info', format: opts.logFormat ?? 'json' });
    process.exitCode = await runDaemon({
      configPath: opts.config,
      logger,
      cliLogLevel: opts.logLevel,
      ...(opts.dryRun ? { dryRun: true } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
  });
}
