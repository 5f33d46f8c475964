// Small pieces the benchmark scripts share.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * True when this process's network namespace has no interface but loopback (what `unshare --net` gives).
 * /proc/1/ns/net cannot be compared: inside such a namespace reading it is refused.
 */
export function inPrivateNetns(): boolean {
  try {
    const names = readFileSync('/proc/self/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0]?.trim() ?? '')
      .filter((n) => n !== '');
    return names.length > 0 && names.every((n) => n === 'lo');
  } catch {
    return false; // cannot tell: assume the host's namespace
  }
}

/** Runs a benchmark's main part and turns its result (or failure) into the exit status. */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

/** Lines a child writes on stdout, awaited one at a time with a limit. */
export class LineReader {
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  constructor(
    child: ChildProcess,
    /** Names the benchmark and the child in timeout errors. */
    private readonly label: string,
  ) {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      this.wake?.();
    });
  }

  next(limitMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(new Error(`${this.label}: no answer to "${what}" within ${limitMs} ms`));
      }, limitMs);
      const take = (): void => {
        const line = this.lines.shift();
        if (line === undefined) return;
        clearTimeout(timer);
        this.wake = undefined;
        resolve(line);
      };
      this.wake = take;
      take();
    });
  }
}
