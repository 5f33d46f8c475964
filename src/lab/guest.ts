// Inside the UML guest: build the lab, play the scenario, print the timeline, tear down (or, with --keep-dir,
// serve commands from the host until told to stop). Run by `lvskeep lab` through src/lab/uml/uml-run.mjs:
//   node dist/lab/guest.js --mode nat|dr [--keep-dir DIR]     (or node --import tsx src/lab/guest.ts ...)
// Exit status 0 only if every check passed.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { commandFile, KEEP_MAX_MS, KEEP_READY_LINE, KEEP_STOP_FILE, parseKeepCommand, pendingCommandId, resultFile } from './keep.js';
import { Lab } from './lab.js';
import { LabNet, sleep } from './netns.js';
import type { LabMode } from './plan.js';
import { runSteps } from './run-scenario.js';
import { scenario } from './scenario.js';
import { Timeline } from './timeline.js';

interface GuestArgs {
  mode: LabMode;
  keepDir: string | undefined;
}

export function parseGuestArgs(argv: readonly string[]): GuestArgs {
  let mode: LabMode = 'nat';
  let keepDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--mode') {
      const m = argv[++i];
      if (m !== 'nat' && m !== 'dr') throw new Error(`--mode: expected nat or dr, got ${JSON.stringify(m)}`);
      mode = m;
    } else if (a === '--keep-dir') {
      keepDir = argv[++i];
      if (!keepDir?.startsWith('/')) throw new Error('--keep-dir needs an absolute path');
    } else {
      throw new Error(`unknown argument ${JSON.stringify(a)} (usage: guest --mode nat|dr [--keep-dir DIR])`);
    }
  }
  return { mode, keepDir };
}

/** Run host commands from `dir` until the stop file appears or KEEP_MAX_MS passes. */
async function serveKeep(lab: Lab, dir: string): Promise<void> {
  const until = Date.now() + KEEP_MAX_MS;
  process.stdout.write(`${KEEP_READY_LINE}: the lab stays up for at most ${KEEP_MAX_MS / 60_000} min\n`);
  while (Date.now() < until && !existsSync(join(dir, KEEP_STOP_FILE))) {
    for (const name of readdirSync(dir)) {
      const id = pendingCommandId(name);
      if (id === undefined) continue;
      const file = join(dir, commandFile(id));
      let result: { code: number | null; stdout: string; stderr: string };
      try {
        const cmd = parseKeepCommand(readFileSync(file, 'utf8'), file);
        result = await lab.net.run(['ip', 'netns', 'exec', LabNet.ns(cmd.ns), ...cmd.argv], false, 60_000);
      } catch (err) {
        result = { code: 2, stdout: '', stderr: errorMessage(err) };
      }
      rmSync(file, { force: true });
      // Renamed into place, so the host never reads a half-written result.
      writeFileSync(join(dir, `.${id}.out.tmp`), JSON.stringify(result));
      renameSync(join(dir, `.${id}.out.tmp`), join(dir, resultFile(id)));
    }
    await sleep(200);
  }
  process.stdout.write('lab: stop requested (or time is up); tearing down\n');
}

async function main(): Promise<number> {
  const args = parseGuestArgs(process.argv.slice(2));
  const tl = new Timeline();
  const lab = new Lab({ mode: args.mode, say: (line) => tl.info('setup', line) });
  let ok = false;
  try {
    tl.info('setup', `building the ${args.mode.toUpperCase()} lab inside the UML guest`);
    await lab.build();
    ok = await runSteps(lab, scenario(), tl);
    process.stdout.write(`\n${tl.summary()}\n`);
    if (!ok) process.stdout.write(`${lab.daemonTails()}\n`);
    if (args.keepDir) {
      await lab.stopProber();
      await serveKeep(lab, args.keepDir);
    }
  } catch (err) {
    tl.fail('setup', errorMessage(err));
    process.stdout.write(`\n${tl.summary()}\n${lab.daemonTails()}\n`);
    ok = false;
  } finally {
    await lab.destroy().catch((err: unknown) => process.stdout.write(`teardown: ${errorMessage(err)}\n`));
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Should a handle outlive the teardown, do not let it hold the guest (and so the host) open.
    setTimeout(() => process.exit(code), 5_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`lab guest: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
