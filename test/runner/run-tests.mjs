#!/usr/bin/env node
// Runs lvskeep's test suites: `node test/runner/run-tests.mjs [unit|net|kernel ...] [-- vitest args]` (default: all,
// in that order; arguments after `--`, such as file filters, go to vitest).
//   unit    vitest --project unit on the host.
//   net     vitest --project net inside `unshare --net --mount`: namespaces made with `ip netns add` live on a
//           private tmpfs at /run/netns and vanish with the run; the host's interfaces are never touched.
//   kernel  boots user-mode-linux ONCE (src/lab/uml/uml-run.mjs) and runs vitest --project kernel inside it,
//           where IPVS exists; the JSON report is written to a host file and counted here.
// Prints `<suite>: N passed, N failed, N skipped` per suite, each followed by its failures (`file > test: first
// error line`, so that a CI log tail names them), and `total: ...` as the last line (CI reads it).
// A suite whose prerequisites are missing is skipped with one loud line, except under CI=true, where that
// is a failure. Exit status 1 if anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { addCounts, countReport, emptyCounts, formatCounts, listFailures, parseSuiteArgs } from './test-summary.mjs';
import { DEFAULT_MODULES_DIR, findUmlBinary, REPO_ROOT, runInUml, SCRATCH_DIR } from '../../src/lab/uml/uml-run.mjs';

const VITEST = join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const VITEST_CONFIG = join(REPO_ROOT, 'test', 'vitest.config.ts');
const CI = process.env.CI === 'true';
const KERNEL_TIMEOUT_MS = Number(process.env.LVSKEEP_KERNEL_TIMEOUT_MS) > 0 ? Number(process.env.LVSKEEP_KERNEL_TIMEOUT_MS) : 20 * 60_000;
/** Bound for the unit and net suites' vitest processes. */
const SUITE_TIMEOUT_MS = 30 * 60_000;

const abort = new globalThis.AbortController();
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    interrupted = true;
    abort.abort();
    process.stderr.write(`\nrun-tests: ${sig} received, stopping\n`);
  });
}

function say(line = '') {
  process.stdout.write(`${line}\n`);
}

function onPath(name) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
}

/** Reasons the suite cannot run here (empty = it can). */
function missingPrerequisites(suite) {
  const missing = [];
  const isRoot = process.getuid?.() === 0;
  if (suite === 'unit') return missing;
  if (!isRoot) missing.push('needs root');
  if (suite === 'net') {
    for (const cmd of ['unshare', 'ip', 'mount']) if (!onPath(cmd)) missing.push(`${cmd} not on PATH`);
    if (missing.length === 0) {
      // Containers may forbid new namespaces even to root; find out before vitest does.
      const probe = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', 'true'], { timeout: 10_000, encoding: 'utf8' });
      if (probe.status !== 0) missing.push(`unshare --net --mount is not permitted here: ${(probe.stderr || probe.error?.message || '').trim()}`);
    }
  }
  if (suite === 'kernel') {
    if (!findUmlBinary()) missing.push('no linux.uml (apt-get install user-mode-linux)');
    for (const cmd of ['ipvsadm', 'ip', 'perl']) if (!onPath(cmd)) missing.push(`${cmd} not on PATH`);
    const releases = existsSync(DEFAULT_MODULES_DIR) ? readdirSync(DEFAULT_MODULES_DIR) : [];
    if (!releases.some((r) => existsSync(join(DEFAULT_MODULES_DIR, r, 'modules.dep')))) missing.push(`no UML modules under ${DEFAULT_MODULES_DIR}`);
  }
  return missing;
}

/** Extra vitest arguments given after `--` (file filters, -t NAME), passed to every selected suite. */
let vitestExtra = [];

function vitestArgs(suite, reportPath) {
  return [VITEST, 'run', '--config', VITEST_CONFIG, '--project', suite, '--reporter=default', '--reporter=json', `--outputFile=${reportPath}`, '--passWithNoTests', ...vitestExtra];
}

/**
 * Run argv with inherited stdout/stderr; resolve with its exit status (null when killed by a signal).
 * The child leads its own process group so that a timeout or Ctrl-C ends vitest and its workers too,
 * not just the wrapper (unshare/bash) in front of them.
 */
function runInherited(argv, timeoutMs) {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    const killGroup = (sig) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      say(`run-tests: ${argv.slice(0, 3).join(' ')} ... exceeded ${Math.round(timeoutMs / 60_000)} min, killing its process group ${child.pid}`);
      killGroup('SIGKILL');
    }, timeoutMs);
    const onAbort = () => killGroup('SIGTERM');
    abort.signal.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort.signal.removeEventListener('abort', onAbort);
      resolve(code);
    };
    child.once('error', (err) => {
      say(`run-tests: cannot start ${file}: ${err.message}`);
      finish(127);
    });
    child.once('close', (code) => finish(code));
  });
}

/** Failure lines of each suite, printed again in the final summary. */
const failuresBySuite = new Map();

/** Counts from the suite's JSON report, with suite-level errors folded in as failures. */
function countsFrom(suite, reportPath, exitCode) {
  const failures = [];
  failuresBySuite.set(suite, failures);
  const error = (line) => {
    say(`ERROR ${suite} suite: ${line}`);
    failures.push(line);
  };
  let report;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch (err) {
    error(`no readable vitest JSON report at ${reportPath} (${err.message}); vitest exit status ${exitCode}`);
    return { ...emptyCounts(), failed: 1 };
  }
  let counts;
  let fileErrors;
  try {
    ({ counts, fileErrors } = countReport(report));
  } catch (err) {
    error(`${reportPath}: ${err.message}`);
    return { ...emptyCounts(), failed: 1 };
  }
  for (const e of fileErrors) say(`ERROR ${suite} suite: test file failed to run: ${e}`);
  failures.push(...listFailures(report, REPO_ROOT));
  if (exitCode !== 0 && counts.failed === 0) {
    // e.g. an unhandled rejection between tests: vitest fails the run but no test is marked failed.
    error(`vitest exited with status ${exitCode} although no test failed (see its output above)`);
    counts = { ...counts, failed: counts.failed + 1 };
  }
  return counts;
}

/** At most this many failure lines per suite in the summary (the rest are in vitest's output above). */
const MAX_LISTED_FAILURES = 30;

async function runUnit(reportPath) {
  const code = await runInherited([process.execPath, ...vitestArgs('unit', reportPath)], SUITE_TIMEOUT_MS);
  return countsFrom('unit', reportPath, code);
}

const NET_SANDBOX = join(REPO_ROOT, 'test', 'runner', 'net-sandbox.sh');

async function runNet(reportPath) {
  const argv = ['unshare', '--net', '--mount', '--propagation', 'private', '--', 'bash', NET_SANDBOX, process.execPath, ...vitestArgs('net', reportPath)];
  const code = await runInherited(argv, SUITE_TIMEOUT_MS);
  return countsFrom('net', reportPath, code);
}

async function runKernel(reportPath) {
  say(`kernel suite: booting user-mode-linux once (limit ${Math.round(KERNEL_TIMEOUT_MS / 60_000)} min); guest output follows`);
  say('----- guest output -----');
  let lastOutputAt = Date.now();
  let endsWithNewline = true;
  let result;
  try {
    result = await runInUml({
      argv: [process.execPath, ...vitestArgs('kernel', reportPath)],
      cwd: REPO_ROOT,
      env: { CI: process.env.CI, LVSKEEP_IN_UML: '1', TERM: 'dumb', NO_COLOR: '1', LANG: 'C.UTF-8' },
      timeoutMs: KERNEL_TIMEOUT_MS,
      signal: abort.signal,
      onOutput: (text) => {
        lastOutputAt = Date.now();
        endsWithNewline = text.endsWith('\n');
        process.stdout.write(text);
      },
      onProgress: ({ elapsedMs }) => {
        // Only when the guest has been quiet for a while, so a slow test does not look like a hang.
        if (Date.now() - lastOutputAt < 55_000) return;
        if (!endsWithNewline) say();
        endsWithNewline = true;
        say(`kernel suite: guest still running after ${Math.round(elapsedMs / 1000)} s (quiet for ${Math.round((Date.now() - lastOutputAt) / 1000)} s)`);
      },
    });
  } catch (err) {
    if (!endsWithNewline) say();
    say(`ERROR kernel suite: ${err.message}`);
    return { ...emptyCounts(), failed: 1 };
  }
  if (!endsWithNewline) say();
  say(`----- guest finished: exit status ${result.exitCode} after ${(result.durationMs / 1000).toFixed(1)} s (boot + run + halt) -----`);
  if (result.exitCode === 125) say('ERROR kernel suite: the guest init failed before running vitest (see guest output above)');
  return countsFrom('kernel', reportPath, result.exitCode);
}

const RUNNERS = { unit: runUnit, net: runNet, kernel: runKernel };

async function main() {
  let suites;
  const args = process.argv.slice(2);
  const dashes = args.indexOf('--');
  if (dashes >= 0) vitestExtra = args.slice(dashes + 1);
  try {
    suites = parseSuiteArgs(dashes >= 0 ? args.slice(0, dashes) : args);
  } catch (err) {
    process.stderr.write(`run-tests: ${err.message}\nusage: node test/runner/run-tests.mjs [unit|net|kernel ...] [-- vitest filters]\n`);
    return 2;
  }
  // Reports go inside the repository (git-ignored): the kernel guest covers /tmp with its own tmpfs.
  const reportDir = join(SCRATCH_DIR, `reports-${process.pid}`);
  let total = emptyCounts();
  const summary = [];
  try {
    for (const suite of suites) {
      if (interrupted) break;
      say(`\n===== ${suite} suite =====`);
      const missing = missingPrerequisites(suite);
      let counts;
      if (missing.length > 0) {
        if (CI) {
          say(`FAILED ${suite} suite: prerequisites missing under CI=true: ${missing.join('; ')}`);
          counts = { ...emptyCounts(), failed: 1 };
          failuresBySuite.set(suite, [`prerequisites missing under CI=true: ${missing.join('; ')}`]);
        } else {
          say(`SKIPPED ${suite} suite: ${missing.join('; ')}`);
          summary.push(`${suite}: SKIPPED (${missing.join('; ')})`);
          continue;
        }
      } else {
        const started = Date.now();
        mkdirSync(reportDir, { recursive: true });
        counts = await RUNNERS[suite](join(reportDir, `${suite}.json`));
        say(`${suite} suite took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      say(formatCounts(counts, suite));
      summary.push(formatCounts(counts, suite));
      const failures = failuresBySuite.get(suite) ?? [];
      for (const f of failures.slice(0, MAX_LISTED_FAILURES)) summary.push(`  FAILED ${f}`);
      if (failures.length > MAX_LISTED_FAILURES) summary.push(`  ... and ${failures.length - MAX_LISTED_FAILURES} more failures (see the ${suite} suite output above)`);
      total = addCounts(total, counts);
    }
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  if (interrupted) {
    say('run-tests: interrupted');
    // An interrupted run must not read as a pass.
    if (total.failed === 0) total = { ...total, failed: 1 };
  }
  say('\n===== summary =====');
  for (const line of summary) say(`  ${line}`);
  say(formatCounts(total, 'total'));
  return total.failed > 0 ? 1 : 0;
}

process.exitCode = await main();
