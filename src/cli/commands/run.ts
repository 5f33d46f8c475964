import type { Command } from 'commander';
import { createLogger, type LogFormat } from '../../log/logger.js';
import type { LevelWithSilent } from 'pino';
import { configOption, logOptions } from '../program.js';
import { runDaemon } from '../../daemon/run.js';

export function registerRun(program: Command): void {
  logOptions(
    program
      .command('run')
      .description('run the daemon in the foreground (systemd starts it this way)')
      .addOption(configOption()),
  ).action(async (opts: { config: string; logLevel?: LevelWithSilent; logFormat?: LogFormat }) => {
    const logger = await createLogger({ level: opts.logLevel ?? 'info', format: opts.logFormat ?? 'json' });
    process.exitCode = await runDaemon({ configPath: opts.config, logger, cliLogLevel: opts.logLevel });
  });
}
