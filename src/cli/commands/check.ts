import type { Command } from 'commander';
import { loadConfigFile, formatIssue } from '../../config/load.js';
import { configOption } from '../program.js';
import { nativePreflight } from '../native-preflight.js';

/**
 * `lvskeep check`: validate a config; `ok` and exit 0, or every error as FILE:LINE:COL on stderr and exit 1.
 * A valid config whose VRRP instances need the native addon fails too when the addon cannot be loaded here.
 */
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
      // The file is valid; now whether this host can run what it asks for.
      const native = nativePreflight(result.config.vrrp, result.place);
      for (const w of [...result.warnings, ...native.warnings]) process.stderr.write(`warning: ${formatIssue(w)}\n`);
      if (native.errors.length > 0) {
        for (const e of native.errors) process.stderr.write(`${formatIssue(e)}\n`);
        process.stderr.write(`${native.errors.length} error${native.errors.length === 1 ? '' : 's'}: ${opts.config} is valid, but this host cannot run it\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write('ok\n');
    });
}
