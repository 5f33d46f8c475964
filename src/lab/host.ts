// The host half of `lvskeep lab`: check (or, with --install, install) what the lab needs, boot the UML guest
// once through src/lab/uml/uml-run.mjs with the guest scenario as its job, and pass its timeline through.
// With --keep the guest stays up after the scenario; this process then exits and `lvskeep lab exec|stop`
// reach the guest through the keep directory (see keep.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';
// Reached through the repository root so the same path works from src/ (tsx) and from dist/ (built): the
// plain-JS UML runner is not compiled, it stays in src/lab/uml/.
import { runInUml, SCRATCH_DIR } from '../../src/lab/uml/uml-run.mjs';
import { errorMessage } from '../util/errors.js';
import { commandFile, KEEP_READY_LINE, KEEP_STOP_FILE, keepResultSchema, resultFile, type KeepResult } from './keep.js';
import { entryArgv, REPO_ROOT } from './lab.js';
import type { LabMode } from './plan.js';
import { ensurePrerequisites } from './prereqs.js';

export const KEEP_DIR = join(SCRATCH_DIR, 'lab-keep');
const RUN_DIR = join(SCRATCH_DIR, 'lab-run');
/** Boot + build + scenario + halt; the scenario itself takes about two minutes in the guest. */
const LAB_TIMEOUT_MS = 15 * 60_000;

export interface LabRunOptions {
  mode: LabMode;
  keep: boolean;
  install: boolean;
  out?: (text: string) => void;
}

const onPath = (cmd: string): boolean => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));

function runInherited(argv: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    // apt-get must not stop to ask questions (CI and scripted runs have no terminal to answer them).
    const child = spawn(file as string, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: process.env.DEBIAN_FRONTEND ?? 'noninteractive' } });
    child.once('error', () => resolve(127));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

/** Exit status: 0 every step passed; 1 a step failed; 2 the lab could not run here (reason printed). */
export async function runLab(opts: LabRunOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  if (process.getuid?.() !== 0) {
    out('lvskeep lab: must run as root (it boots a user-mode-linux guest and builds network namespaces in it)\n');
    return 2;
  }
  if (!(await ensurePrerequisites(opts.install, { probe: { onPath, exists: existsSync }, run: runInherited, out }))) return 2;
  const addon = join(REPO_ROOT, 'src', 'native', 'build', 'Release', 'lvskeep_native.node');
  if (!existsSync(addon)) {
    out(`lvskeep lab: the native addon ${addon} is not built (VRRP needs it): run npm run build\n`);
    return 2;
  }

  rmSync(KEEP_DIR, { recursive: true, force: true });
  if (opts.keep) mkdirSync(KEEP_DIR, { recursive: true });
  mkdirSync(RUN_DIR, { recursive: true });
  const argv = [...entryArgv('lab/guest'), '--mode', opts.mode, ...(opts.keep ? ['--keep-dir', KEEP_DIR] : [])];
  out(`lvskeep lab: booting the user-mode-linux guest (${opts.mode.toUpperCase()} mode); the timeline follows\n`);

  let seen = '';
  let settleKept: ((code: number) => void) | undefined;
  const kept = new Promise<number>((resolve) => (settleKept = resolve));
  const run = runInUml({
    argv,
    cwd: REPO_ROOT,
    env: { NO_COLOR: '1', LANG: 'C.UTF-8', TERM: 'dumb' },
    timeoutMs: opts.keep ? LAB_TIMEOUT_MS + 65 * 60_000 : LAB_TIMEOUT_MS,
    workDir: RUN_DIR,
    onOutput: (text) => {
      out(text);
      seen = (seen + text).slice(-20_000);
      if (opts.keep && seen.includes(KEEP_READY_LINE)) settleKept?.(seen.includes('LAB PASSED') ? 0 : 1);
    },
  }).then(
    (r) => r.exitCode,
    (err: unknown) => {
      out(`lvskeep lab: ${errorMessage(err)}\n`);
      return 2;
    },
  );
  if (!opts.keep) return await run;
  const code = await Promise.race([run, kept]);
  if (existsSync(join(KEEP_DIR, KEEP_STOP_FILE)) || !seen.includes(KEEP_READY_LINE)) return code;
  out(
    [
      '',
      'The lab keeps running inside the UML guest (in the background, at most 60 min). There is no shell to log into;',
      'run commands in its namespaces (client, d1, d2, web1, web2, web3, rtr in DR mode) from this checkout:',
      '  lvskeep lab exec d1 ipvsadm -Ln',
      '  lvskeep lab exec client node src/lab/tools/get.mjs http://203.0.113.10/ 6',
      '  lvskeep lab exec d2 ip -o addr',
      'and stop it with:',
      '  lvskeep lab stop',
      '',
    ].join('\n'),
  );
  return code;
}

/** `lvskeep lab exec NS ARGV...`: run a command in a kept lab's namespace and wait for its result. */
export async function labExec(ns: string, argv: readonly string[], timeoutMs = 90_000): Promise<KeepResult> {
  if (!existsSync(KEEP_DIR)) throw new Error(`no kept lab (${KEEP_DIR} does not exist): start one with lvskeep lab --keep`);
  if (existsSync(join(KEEP_DIR, KEEP_STOP_FILE))) throw new Error('the kept lab is stopping');
  const id = randomBytes(6).toString('hex');
  const tmp = join(KEEP_DIR, `.${id}.tmp`);
  writeFileSync(tmp, JSON.stringify({ ns, argv }));
  // Renamed into place, so the guest never reads a half-written command.
  renameSync(tmp, join(KEEP_DIR, commandFile(id)));
  const result = join(KEEP_DIR, resultFile(id));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(result)) {
      const parsed = keepResultSchema.safeParse(JSON.parse(readFileSync(result, 'utf8')));
      rmSync(result, { force: true });
      if (!parsed.success) throw new Error(`${result}: unreadable result from the guest`);
      return parsed.data;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(join(KEEP_DIR, commandFile(id)), { force: true });
  throw new Error(`the kept lab did not answer within ${timeoutMs / 1000} s (is it still running?)`);
}

export function labStop(): boolean {
  if (!existsSync(KEEP_DIR)) return false;
  writeFileSync(join(KEEP_DIR, KEEP_STOP_FILE), `${new Date().toISOString()}\n`);
  return true;
}
