// Reset guard, adapter part (see ../reset-guard.ts): keeps the kernel's tc filters equal to the union of what the
// instances ask for. One `tc -force -batch -` per change (argv only, the script on stdin), one at a time; changes
// that arrive meanwhile are folded into the next run. A failure is logged and VRRP goes on: the guard only
// saves in-flight requests during a takeover.
import { CommandError, execFileRunner, type CommandRunner } from '../../ipvs/run-command.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { guardedUnion, guardKey, tcGuardBatches, tcGuardCleanup, type GuardedVip } from '../reset-guard.js';

/** Runs tc batch lines; rejects with tc's message when one failed. */
export type TcBatchRunner = (lines: readonly string[]) => Promise<void>;

/** `tc -force -batch -` through the project's command runner (argv only, the lines on stdin, killed on timeout). */
export function tcBatchRunner(opts: { tc?: string; timeoutMs?: number; run?: CommandRunner } = {}): TcBatchRunner {
  const tc = opts.tc ?? 'tc';
  const run = opts.run ?? execFileRunner;
  return async (lines) => {
    if (lines.length === 0) return;
    let r;
    try {
      r = await run(tc, ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: opts.timeoutMs ?? 10_000 });
    } catch (err) {
      const why = err instanceof CommandError && err.code === 'ENOENT' ? `${tc} not found (Debian package iproute2)` : errorMessage(err);
      throw new Error(`tc -batch: ${why}`, { cause: err });
    }
    if (r.code !== 0) throw new Error(`tc -batch: ${(r.stderr.trim() || `exit ${r.code}`).split('\n').slice(0, 4).join(' | ')}`);
  };
}

export class ResetGuardController {
  private readonly wanted = new Map<string, readonly GuardedVip[]>();
  private installed: GuardedVip[] = [];
  private running: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly run: TcBatchRunner,
    private readonly logger: Logger,
  ) {}

  /** An instance's guarded VIPs now (empty or undefined: none). */
  update(name: string, vips: readonly GuardedVip[] | undefined): void {
    if (vips && vips.length > 0) this.wanted.set(name, vips);
    else this.wanted.delete(name);
    this.kick();
  }

  /** Remove what an earlier run may have left on these interfaces (a crash, kill -9). Never rejects. */
  async cleanup(devs: readonly string[]): Promise<void> {
    await this.idle();
    // "Cannot find specified filter chain" is the normal answer when nothing was left.
    await this.run(tcGuardCleanup(devs)).catch(() => undefined);
    this.installed = [];
  }

  /** Wait for pending work, then remove every guard filter. */
  async close(): Promise<void> {
    this.wanted.clear();
    this.kick();
    await this.idle();
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The VIPs guarded in the kernel now, as far as this controller knows. */
  guarded(): string[] {
    return this.installed.map(guardKey);
  }

  private kick(): void {
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = this.apply().finally(() => {
      this.running = undefined;
      if (this.dirty) {
        this.dirty = false;
        this.kick();
      }
    });
  }

  private async apply(): Promise<void> {
    const want = guardedUnion(this.wanted.values());
    const { remove, add } = tcGuardBatches(this.installed, want);
    if (remove.length === 0 && add.length === 0) return;
    // A removal that finds nothing is fine (someone flushed the qdisc); count it as done either way.
    if (remove.length > 0) await this.run(remove).catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'reset guard: removing filters reported an error'));
    // Counted as installed even on failure (tc -force may have added some): later removals then cover them all.
    this.installed = want;
    if (add.length === 0) return;
    try {
      await this.run(add);
    } catch (err) {
      this.logger.warn({ vips: want.map(guardKey), err: errorMessage(err) }, 'reset guard not installed: clients of the old master may get resets at a takeover');
    }
  }
}
