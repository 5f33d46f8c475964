// Running the lvskeep CLI from tests: `node --import tsx src/cli/main.ts ...` from the repository root (no build
// step; the same source the unit tests import). One-shot commands and a long-running daemon whose JSON log
// lines are collected as they arrive.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..', '..');
const CLI = ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts')];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one command to its end (killed after `timeoutMs`). */
export function runCli(args: readonly string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export type LogLine = Record<string, unknown> & { msg?: string };

/** A running `lvskeep run`; stop() sends SIGTERM (SIGKILL after a grace) to this child only. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  private readonly child: ChildProcess;
  private rest = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [...CLI, 'run', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (c: Buffer) => {
      const parts = (this.rest + c.toString()).split('\n');
      this.rest = parts.pop() ?? '';
      for (const p of parts) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          this.lines.push({ msg: `unparsed: ${p}` });
        }
      }
    });
    this.child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** The newest line matching `pred` after index `from`, waiting up to `timeoutMs`. */
  async waitFor(what: string, pred: (l: LogLine) => boolean, timeoutMs: number, from = 0): Promise<{ line: LogLine; index: number }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.lines.length - 1; i >= from; i--) {
        const line = this.lines[i];
        if (line && pred(line)) return { line, index: i };
      }
      if (!this.running()) throw new Error(`lvskeep exited before ${what}; stderr:\n${this.stderr}\nlog:\n${this.tail()}`);
      if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs} ms; log:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  tail(n = 30): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }

  async stop(graceMs = 5_000): Promise<number | null> {
    if (!this.running()) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
