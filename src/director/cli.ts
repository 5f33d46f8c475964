/** `lvskeep director prepare -c FILE [--dry-run]`: set the director's sysctls from the configuration. */
import { Command, Option } from 'commander';

import { formatIssue, loadConfigFile } from '../config/load.js';
import { formatChange } from '../realserver/sysctl-plan.js';
import type { SysctlIo } from '../realserver/sysctl.js';
import { errorMessage } from '../util/errors.js';
import { PrepareError, prepareDirector } from './prepare.js';

export const DEFAULT_CONFIG_FILE = '/etc/lvskeep/lvskeep.yaml';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Returns the exit code: 0 done (or nothing to do), 1 config error or failed write. Never throws. */
export async function runDirectorPrepare(opts: { config: string; dryRun?: boolean }, output: Output = processOutput, sysctl?: SysctlIo): Promise<number> {
  const loaded = await loadConfigFile(opts.config);
  if (!loaded.ok) {
    for (const issue of loaded.errors) output.err(formatIssue(issue));
    output.err(`${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'} in ${opts.config}; nothing was changed`);
    return 1;
  }
  try {
    const report = await prepareDirector(loaded.config, { dryRun: opts.dryRun ?? false, ...(sysctl ? { sysctl } : {}) });
    const verb = report.dryRun ? 'would set' : 'set';
    for (const c of report.changes) output.out(`${verb} ${formatChange(c)}  (${c.why})`);
    for (const u of report.unchanged) output.out(`unchanged: ${u.key} = ${u.value}`);
    if (report.changes.length === 0 && report.unchanged.length === 0) output.out(`nothing to do: ${opts.config} has no NAT virtual servers`);
    else if (report.changes.length === 0) output.out('nothing to change: director sysctls already in place');
    return 0;
  } catch (err) {
    output.err(`lvskeep director prepare: ${errorMessage(err)}`);
    if (err instanceof PrepareError) {
      if (err.applied.length === 0) output.err('nothing was changed');
      else {
        output.err('changed before the failure:');
        for (const c of err.applied) output.err(`  set ${formatChange(c)}`);
      }
    }
    return 1;
  }
}

export function registerDirector(program: Command): Command {
  const director = program.command('director').description('director host preparation');
  director
    .command('prepare')
    .description('set the sysctls LVS needs on this director (ip_forward for NAT, send_redirects=0); idempotent')
    .addOption(new Option('-c, --config <file>', 'configuration file').default(DEFAULT_CONFIG_FILE))
    .option('--dry-run', 'print what would change, change nothing')
    .action(async (opts: { config: string; dryRun?: boolean }) => {
      process.exitCode = await runDirectorPrepare(opts);
    });
  return director;
}
