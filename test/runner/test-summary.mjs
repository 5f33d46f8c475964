// Pure helpers of test/runner/run-tests.mjs: which suites to run and how to count a vitest JSON report.
// Kept apart from the runner so that test/unit/harness can test them without spawning anything.

export const SUITES = Object.freeze(['unit', 'net', 'kernel']);

/** Suites named on the command line, in the canonical order unit, net, kernel; none named = all three. */
export function parseSuiteArgs(args) {
  const unknown = args.filter((a) => !SUITES.includes(a));
  if (unknown.length > 0) throw new Error(`unknown suite(s) ${unknown.join(', ')}; expected some of: ${SUITES.join(' ')}`);
  if (args.length === 0) return [...SUITES];
  return SUITES.filter((s) => args.includes(s));
}

export function emptyCounts() {
  return { passed: 0, failed: 0, skipped: 0 };
}

export function addCounts(a, b) {
  return { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped };
}

/** The line CI reads: `N passed, N failed, N skipped`, optionally after one word and a colon. */
export function formatCounts(counts, label) {
  const line = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
  return label ? `${label}: ${line}` : line;
}

/**
 * Count a vitest JSON report (jest-compatible shape). A test file that failed without any failed test
 * (an import error, a throw at collection time) counts as one failure, with its message in `fileErrors`.
 */
export function countReport(report) {
  if (typeof report !== 'object' || report === null || !Array.isArray(report.testResults)) {
    throw new Error('vitest JSON report: missing testResults array');
  }
  const counts = emptyCounts();
  const fileErrors = [];
  for (const [i, file] of report.testResults.entries()) {
    const assertions = Array.isArray(file?.assertionResults) ? file.assertionResults : [];
    let failedHere = 0;
    for (const a of assertions) {
      if (a?.status === 'passed') counts.passed += 1;
      else if (a?.status === 'failed') {
        counts.failed += 1;
        failedHere += 1;
      } else counts.skipped += 1;
    }
    if (file?.status === 'failed' && failedHere === 0) {
      counts.failed += 1;
      const name = typeof file?.name === 'string' ? file.name : `testResults[${i}]`;
      const message = typeof file?.message === 'string' && file.message ? file.message.split('\n')[0] : 'failed without a failed test';
      fileErrors.push(`${name}: ${message}`);
    }
  }
  return { counts, fileErrors };
}

/** First non-blank line of an error message, without colour codes, at most 300 characters. */
function firstLine(message, durationMs) {
  // eslint-disable-next-line no-control-regex
  let line = String(message ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '(no message)';
  // vitest's JSON report keeps only the stack of a timeout error, whose first line is this placeholder.
  if (line === 'Error: STACK_TRACE_ERROR') {
    const after = Number.isFinite(durationMs) ? ` after ${Math.round(durationMs)} ms` : '';
    line = `timed out${after} (vitest test or hook timeout; the JSON report keeps no message)`;
  }
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * One line per failure in a vitest JSON report, `file > describe > test: first error line`, file paths
 * relative to `root` when under it: what the runner prints in its summary so a CI log tail names them.
 * A test file that failed without a failed test is listed as `file: its message`.
 */
export function listFailures(report, root = '') {
  const prefix = root && !root.endsWith('/') ? `${root}/` : root;
  const failures = [];
  for (const [i, file] of (Array.isArray(report?.testResults) ? report.testResults : []).entries()) {
    let name = typeof file?.name === 'string' ? file.name : `testResults[${i}]`;
    if (prefix && name.startsWith(prefix)) name = name.slice(prefix.length);
    const assertions = Array.isArray(file?.assertionResults) ? file.assertionResults : [];
    const failed = assertions.filter((a) => a?.status === 'failed');
    for (const a of failed) {
      const titles = [...(Array.isArray(a.ancestorTitles) ? a.ancestorTitles : []), a.title ?? a.fullName ?? '?'];
      failures.push(`${[name, ...titles].join(' > ')}: ${firstLine(a.failureMessages?.[0], a.duration)}`);
    }
    if (file?.status === 'failed' && failed.length === 0) failures.push(`${name}: ${firstLine(file.message || 'failed without a failed test')}`);
  }
  return failures;
}
