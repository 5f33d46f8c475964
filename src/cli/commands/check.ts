import type { Command } from 'commander';
import { loadConfigFile, formatIssue } from '../../config/load.js';
import { configOption } from '../program.js';

/** `lvskeep check`: validate a config; `ok` and exit 0, or every error as FILE:LINE:COL on stderr and exit 1. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate a configuration file and report every error with file:line:col')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const result = await loadConfigFile(opts.config);
      if (!result.ok) {
        for (const issue of result.errors) process.stderr.write(`${formatIssue(issue)}\n`);
        process.stderr.write(`${result.errors.length} error${result.errors.length === 1 ? '' : 's'} in ${opts.config}\n`);
        process.exitCode = 1;
        return;
      }
      for (const w of result.warnings) process.stderr.write(`warning: ${formatIssue(w)}\n`);
      process.stdout.write('ok\n');
    });
}
