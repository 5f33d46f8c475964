// Small pieces the benchmark scripts share.
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
