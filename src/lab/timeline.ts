// The timeline the lab prints: one line per step, time since the start, a PASS/FAIL/INFO mark. Pure
// formatting plus a small recorder whose clock and sink are injected.

export type Mark = 'PASS' | 'FAIL' | 'INFO' | 'SKIP';

export interface TimelineEntry {
  atMs: number;
  mark: Mark;
  step: string;
  text: string;
}

export function formatEntry(e: TimelineEntry): string {
  const secs = (e.atMs / 1000).toFixed(2).padStart(7);
  return `[+${secs}s] ${e.mark.padEnd(4)} ${e.step.padEnd(9)} ${e.text}`;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private readonly start: number;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.start = now();
  }

  elapsedMs(): number {
    return this.now() - this.start;
  }

  add(mark: Mark, step: string, text: string): TimelineEntry {
    const e = { atMs: this.elapsedMs(), mark, step, text };
    this.entries.push(e);
    this.sink(formatEntry(e));
    return e;
  }

  pass(step: string, text: string): void {
    this.add('PASS', step, text);
  }

  fail(step: string, text: string): void {
    this.add('FAIL', step, text);
  }

  info(step: string, text: string): void {
    this.add('INFO', step, text);
  }

  /** PASS when `ok`, else FAIL; returns `ok`. */
  check(ok: boolean, step: string, text: string): boolean {
    this.add(ok ? 'PASS' : 'FAIL', step, text);
    return ok;
  }

  failures(): TimelineEntry[] {
    return this.entries.filter((e) => e.mark === 'FAIL');
  }

  /** `N passed, N failed` line for the end of the run. */
  summary(): string {
    const passed = this.entries.filter((e) => e.mark === 'PASS').length;
    const failed = this.failures().length;
    return `${failed === 0 ? 'LAB PASSED' : 'LAB FAILED'}: ${passed} checks passed, ${failed} failed`;
  }
}
