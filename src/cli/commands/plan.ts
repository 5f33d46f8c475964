import { Option, type Command } from 'commander';
import type { LvskeepConfig } from '../../config/types.js';
import { CONFIGURED_WEIGHTS, desiredTable } from '../../daemon/desired-table.js';
import { openIpvsBackend, type BackendName } from '../../daemon/ipvs-backend.js';
import type { ApplyResult, IpvsBackend, IpvsOp } from '../../ipvs/backend.js';
import { planChanges } from '../../ipvs/reconcile.js';
import { formatOp } from '../../ipvs/save-format.js';
import { silentLogger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { backendOption, fail, loadConfigOrReport } from '../common.js';
import { configOption } from '../program.js';

/** The operations that make the kernel match the config, every real server at its configured weight. */
export async function planFor(config: LvskeepConfig, backend: IpvsBackend): Promise<IpvsOp[]> {
  const desired = desiredTable(config.virtual_servers, CONFIGURED_WEIGHTS);
  return planChanges(desired, await backend.dump(), { owned: config.ipvs.owned });
}

/** Open the named backend, run `body`, report any error with exit code 1, and always close it. */
export async function withBackend(name: BackendName, body: (b: IpvsBackend) => Promise<void>): Promise<void> {
  let backend: IpvsBackend;
  try {
    backend = await openIpvsBackend(name, silentLogger());
  } catch (err) {
    fail(`cannot open the ${name} IPVS backend: ${errorMessage(err)}`);
    return;
  }
  try {
    await body(backend);
  } catch (err) {
    fail(errorMessage(err));
  } finally {
    await backend.close().catch(() => undefined);
  }
}

/** `lvskeep plan`: what `apply` would do, in ipvsadm save syntax; --detailed-exitcode exits 2 when changes are pending. */
export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('print the IPVS changes needed to match the configuration (ipvsadm save syntax), or "no changes"')
    .addOption(configOption())
    .addOption(backendOption())
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on errors')
    .action(async (opts: { config: string; backend?: BackendName; detailedExitcode?: boolean }) => {
      const config = await loadConfigOrReport(opts.config);
      if (!config) return;
      await withBackend(opts.backend ?? config.backend.ipvs, async (backend) => {
        const ops = await planFor(config, backend);
        process.stdout.write(ops.length === 0 ? 'no changes\n' : `${ops.map(formatOp).join('\n')}\n`);
        if (ops.length > 0 && opts.detailedExitcode) process.exitCode = 2;
      });
    });
}

/** Human report of an apply: applied ops on stdout, failures naming their object on stderr. */
export function reportApply(result: ApplyResult): void {
  for (const op of result.applied) process.stdout.write(`${formatOp(op)}\n`);
  for (const f of result.failed) process.stderr.write(`FAILED ${formatOp(f.op)}: ${f.error.message}\n`);
}

/** `lvskeep apply`: apply the plan once and exit; exit 1 when any operation failed. */
export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('make the IPVS table match the configuration once and exit (instead of an ipvsadm script)')
    .addOption(configOption())
    .addOption(backendOption())
    .addOption(new Option('--dry-run', 'apply to an in-memory table (shows what would be done)'))
    .action(async (opts: { config: string; backend?: BackendName; dryRun?: boolean }) => {
      const config = await loadConfigOrReport(opts.config);
      if (!config) return;
      await withBackend(opts.dryRun ? 'memory' : (opts.backend ?? config.backend.ipvs), async (backend) => {
        const ops = await planFor(config, backend);
        if (ops.length === 0) {
          process.stdout.write('no changes\n');
          return;
        }
        const result = await backend.apply(ops);
        reportApply(result);
        if (result.failed.length > 0) {
          process.stderr.write(`${result.failed.length} of ${ops.length} operations failed\n`);
          process.exitCode = 1;
        }
      });
    });
}

