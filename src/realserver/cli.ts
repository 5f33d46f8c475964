/**
 * `lvskeep realserver up|down|status`: prepares a DR or TUN real server (VIP on lo/tunl0, ARP sysctls) in
 * place of the guides' rc scripts. Exit codes: 0 done / fully up, 1 error, 3 status "not fully up" (as LSB
 * status does), 4 status unknown (could not read).
 */
import { Command, Option } from 'commander';

import { createVipManager } from '../vip/index.js';
import { errorMessage } from '../util/errors.js';
import { ipLinkControl } from './links.js';
import { RealserverError, realserverDown, realserverStatus, realserverUp, type RealserverDeps } from './realserver.js';
import type { RealserverMode } from './spec.js';
import { DEFAULT_STATE_DIR, fileStateStore, stateFilePath } from './state.js';
import { procSysIo } from './sysctl.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_NOT_UP = 3;
export const EXIT_UNKNOWN = 4;

export interface RealserverCliOptions {
  vip: string[];
  mode: RealserverMode;
  dev?: string;
  stateDir: string;
  vipBackend: 'auto' | 'netlink' | 'iproute2';
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export type Action = 'up' | 'down' | 'status';

/** Runs one action with real adapters (or `deps` for tests) and returns the exit code; never throws. */
export async function runRealserverAction(action: Action, opts: RealserverCliOptions, output: Output = processOutput, deps?: RealserverDeps): Promise<number> {
  const request = { vips: opts.vip, mode: opts.mode, ...(opts.dev !== undefined ? { dev: opts.dev } : {}) };
  const stateFile = stateFilePath(opts.stateDir);
  let ownDeps: RealserverDeps | undefined;
  try {
    ownDeps = deps ?? {
      sysctl: procSysIo(),
      vips: await createVipManager(opts.vipBackend),
      links: ipLinkControl(),
      state: fileStateStore(stateFile),
    };
    if (action === 'status') {
      const status = await realserverStatus(request, ownDeps);
      for (const line of status.lines) output.out(`${line.ok ? 'ok     ' : 'MISSING'} ${line.text}`);
      output.out(status.up ? 'real server is fully up' : 'real server is NOT fully up');
      return status.up ? EXIT_OK : EXIT_NOT_UP;
    }
    const report = action === 'up' ? await realserverUp(request, ownDeps) : await realserverDown(request, ownDeps);
    for (const line of report.done) output.out(line);
    for (const line of report.kept) output.out(`unchanged: ${line}`);
    if (report.done.length === 0) output.out(`nothing to change: real server already ${action === 'up' ? 'up' : 'down'} for ${opts.vip.join(', ')}`);
    return EXIT_OK;
  } catch (err) {
    output.err(`lvskeep realserver ${action}: ${errorMessage(err)}`);
    if (err instanceof RealserverError) {
      if (err.done.length === 0) output.err('nothing was changed');
      else {
        output.err('done before the failure:');
        for (const line of err.done) output.err(`  ${line}`);
        output.err(`recorded in ${stateFile}; \`lvskeep realserver down\` with the same --vip/--mode undoes it`);
      }
    }
    return action === 'status' ? EXIT_UNKNOWN : EXIT_ERROR;
  } finally {
    if (deps === undefined) await ownDeps?.vips.close().catch(() => undefined);
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerRealserver(program: Command): Command {
  const realserver = program.command('realserver').description('prepare this host as an LVS-DR or LVS-TUN real server (VIP on lo/tunl0, ARP sysctls)');
  const describe: Record<Action, string> = {
    up: 'add the VIPs and set the sysctls (idempotent); saves the values found, for down',
    down: 'remove the VIPs lvskeep added and restore the saved sysctl values',
    status: 'show what is in place and what is missing (exit 0 fully up, 3 not)',
  };
  for (const action of ['up', 'down', 'status'] as const) {
    realserver
      .command(action)
      .description(describe[action])
      .requiredOption('--vip <address>', 'virtual IP address (repeat for more)', collect)
      .addOption(new Option('--mode <mode>', 'LVS forwarding method of the director').choices(['dr', 'tun']).makeOptionMandatory())
      .option('--dev <ifname>', 'device that holds the VIPs (default lo for dr, tunl0 for tun)')
      .option('--state-dir <dir>', 'where realserver.json is kept', DEFAULT_STATE_DIR)
      .addOption(new Option('--vip-backend <kind>', 'how addresses are changed').choices(['auto', 'netlink', 'iproute2']).default('auto'))
      .action(async (opts: RealserverCliOptions) => {
        process.exitCode = await runRealserverAction(action, opts);
      });
  }
  return realserver;
}
