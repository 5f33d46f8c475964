import { describe, expect, it } from 'vitest';
import { addCounts, countReport, formatCounts, listFailures, parseSuiteArgs } from '../../runner/test-summary.mjs';

// The pattern CI applies to the runner's last line.
const CI_LINE = /^(\w+: )?\d+ passed, \d+ failed(, \d+ skipped)?$/;

describe('suite selection', () => {
  it('defaults to all suites and keeps the canonical order', () => {
    expect(parseSuiteArgs([])).toEqual(['unit', 'net', 'kernel']);
    expect(parseSuiteArgs(['kernel', 'unit'])).toEqual(['unit', 'kernel']);
    expect(() => parseSuiteArgs(['unit', 'e2e'])).toThrow(/unknown suite\(s\) e2e/);
  });
});

describe('counting a vitest JSON report', () => {
  it('counts passed, failed and skipped/todo tests', () => {
    const report = {
      testResults: [
        { name: 'a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'skipped' }, { status: 'todo' }] },
        { name: 'b.test.ts', status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'passed' }, { status: 'pending' }] },
      ],
    };
    expect(countReport(report)).toEqual({ counts: { passed: 2, failed: 1, skipped: 3 }, fileErrors: [] });
  });

  it('counts a test file that failed to load as one failure and names it', () => {
    const report = { testResults: [{ name: '/r/test/net/x.test.ts', status: 'failed', message: 'prerequisites missing under CI=true\nstack', assertionResults: [] }] };
    const { counts, fileErrors } = countReport(report);
    expect(counts).toEqual({ passed: 0, failed: 1, skipped: 0 });
    expect(fileErrors).toEqual(['/r/test/net/x.test.ts: prerequisites missing under CI=true']);
  });

  it('lists every failed test as file > describe > test: first error line, for the summary', () => {
    const report = {
      testResults: [
        { name: '/r/test/unit/a.test.ts', status: 'passed', assertionResults: [{ status: 'passed', ancestorTitles: ['x'], title: 'ok', failureMessages: [] }] },
        {
          name: '/r/test/unit/daemon/b.test.ts',
          status: 'failed',
          assertionResults: [
            { status: 'failed', ancestorTitles: ['lifecycle', 'stop'], title: 'drains', failureMessages: ['\n\u001b[31mAssertionError: expected 1 to be 2\u001b[39m\n    at b.test.ts:3:4'] },
            { status: 'skipped', ancestorTitles: [], title: 'later', failureMessages: [] },
            { status: 'failed', ancestorTitles: [], title: 'top level', failureMessages: [`Error: ${'x'.repeat(400)}`] },
            { status: 'failed', ancestorTitles: ['slow'], title: 'times out', duration: 5002.4, failureMessages: ['Error: STACK_TRACE_ERROR\n    at task (chunk-hooks.js:638:27)'] },
          ],
        },
        { name: '/elsewhere/c.test.ts', status: 'failed', message: 'Cannot find module y\nstack', assertionResults: [] },
      ],
    };
    expect(listFailures(report, '/r')).toEqual([
      'test/unit/daemon/b.test.ts > lifecycle > stop > drains: AssertionError: expected 1 to be 2',
      `test/unit/daemon/b.test.ts > top level: Error: ${'x'.repeat(290)}...`,
      'test/unit/daemon/b.test.ts > slow > times out: timed out after 5002 ms (vitest test or hook timeout; the JSON report keeps no message)',
      '/elsewhere/c.test.ts: Cannot find module y',
    ]);
    expect(listFailures(report)[0]).toMatch(/^\/r\/test\/unit\/daemon\/b\.test\.ts > lifecycle/);
    expect(listFailures({ testResults: [{ name: 'a', status: 'passed', assertionResults: [{ status: 'passed' }] }] })).toEqual([]);
  });

  it('rejects something that is not a report', () => {
    expect(() => countReport({})).toThrow(/testResults/);
    expect(() => countReport(null)).toThrow(/testResults/);
  });

  it('prints the exact line CI reads', () => {
    const total = addCounts({ passed: 120, failed: 0, skipped: 3 }, { passed: 1, failed: 2, skipped: 0 });
    expect(formatCounts(total, 'total')).toBe('total: 121 passed, 2 failed, 3 skipped');
    expect(formatCounts(total, 'total')).toMatch(CI_LINE);
    expect(formatCounts(total)).toMatch(CI_LINE);
  });
});
