import { execFile } from 'node:child_process';

/** Result of one external command; a non-zero exit is a result, not an exception. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  timeoutMs: number;
}

/** Runs a program with an argument array (never a shell). Rejects only when it cannot run or times out. */
export type CommandRunner = (file: string, args: readonly string[], opts: RunOptions) => Promise<CommandResult>;

/** Output cap: a 10,000-service listing is a few MB; more than this means something is wrong. */
const MAX_OUTPUT = 256 * 1024 * 1024;

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export const execFileRunner: CommandRunner = (file, args, opts) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { encoding: 'utf8', timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string | null };
        const cmd = [file, ...args].join(' ');
        if (e.killed || e.signal === 'SIGKILL') {
          reject(new CommandError(`${cmd}: timed out after ${opts.timeoutMs} ms`, 'ETIMEDOUT'));
        } else if (typeof e.code === 'string') {
          reject(new CommandError(`${cmd}: ${e.message}`, e.code)); // spawn failure such as ENOENT
        } else {
          resolve({ code: typeof e.code === 'number' ? e.code : 1, stdout, stderr });
        }
      },
    );
    // A child that exits before reading stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
