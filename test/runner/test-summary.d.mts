// Types for test/runner/test-summary.mjs.
export type SuiteName = 'unit' | 'net' | 'kernel';
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
export declare const SUITES: readonly SuiteName[];
export declare function parseSuiteArgs(args: readonly string[]): SuiteName[];
export declare function emptyCounts(): Counts;
export declare function addCounts(a: Counts, b: Counts): Counts;
export declare function formatCounts(counts: Counts, label?: string): string;
export declare function countReport(report: unknown): { counts: Counts; fileErrors: string[] };
export declare function listFailures(report: unknown, root?: string): string[];
