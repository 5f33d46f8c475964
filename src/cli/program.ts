import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import { registerCheck } from './commands/check.js';
import { registerRun } from './commands/run.js';
import { registerApply, registerPlan } from './commands/plan.js';
import { registerIpvs } from './commands/ipvs.js';
import { registerAlert } from './commands/alert.js';
import { registerControlCommands } from '../control/cli.js';
import { registerDirector } from '../director/cli.js';
import { registerRealserver } from '../realserver/cli.js';
import { registerLab } from '../lab/cli.js';

export const DEFAULT_CONFIG = '/etc/lvskeep/lvskeep.yaml';

/** Options every command that reads the config shares. */
export function configOption(): Option {
  return new Option('-c, --config <file>', 'configuration file').default(DEFAULT_CONFIG);
}

export function logOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .addOption(new Option('--log-format <format>', 'json lines (default) or pretty for people').choices(['json', 'pretty']));
}

export function buildProgram(): Command {
  const program = new Command('lvskeep')
    .description('Health-checking high-availability agent for LVS/IPVS directors')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });
  registerCheck(program);
  registerRun(program);
  registerPlan(program);
  registerApply(program);
  registerIpvs(program);
  registerAlert(program);
  registerControlCommands(program);
  registerDirector(program);
  registerRealserver(program);
  registerLab(program);
  return program;
}
