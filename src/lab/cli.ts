// `lvskeep lab [--mode nat|dr] [--keep] [--install]`, `lvskeep lab exec NS CMD...`, `lvskeep lab stop`.
// Registered by src/cli/program.ts with `registerLab(program)`.
import { Option, type Command } from 'commander';
import { errorMessage } from '../util/errors.js';
import { labExec, labStop, runLab } from './host.js';
import type { LabMode } from './plan.js';

export function registerLab(program: Command): Command {
  const lab = program
    .command('lab')
    .description('boot a two-director LVS lab with real IPVS in a user-mode-linux guest and play a failover scenario (root)')
    .addOption(new Option('--mode <mode>', 'LVS forwarding method of the lab').choices(['nat', 'dr']).default('nat'))
    .option('--keep', 'leave the lab running afterwards (reach it with lvskeep lab exec, end it with lvskeep lab stop)')
    .option('--install', 'apt-get install what the lab needs when it is missing')
    .action(async (opts: { mode: LabMode; keep?: boolean; install?: boolean }) => {
      const code = await runLab({ mode: opts.mode, keep: opts.keep === true, install: opts.install === true });
      // A kept guest runs on detached; do not wait for its boot helper's timers.
      if (opts.keep) process.exit(code);
      process.exitCode = code;
    });
  lab
    .command('exec')
    .description('run a command in a namespace of a kept lab (client, d1, d2, web1..web3, rtr)')
    .argument('<namespace>')
    .argument('<command...>')
    // The command's own options (ipvsadm -Ln) belong to it, not to lvskeep.
    .allowUnknownOption()
    .helpOption(false)
    .action(async (ns: string, argv: string[]) => {
      try {
        const r = await labExec(ns, argv);
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code ?? 1;
      } catch (err) {
        process.stderr.write(`lvskeep lab exec: ${errorMessage(err)}\n`);
        process.exitCode = 1;
      }
    });
  lab
    .command('stop')
    .description('tear down a kept lab and halt its guest')
    .action(() => {
      if (labStop()) process.stdout.write('lvskeep lab: stop requested; the guest tears the lab down and halts within a few seconds\n');
      else {
        process.stderr.write('lvskeep lab stop: no kept lab found\n');
        process.exitCode = 1;
      }
    });
  return lab;
}
