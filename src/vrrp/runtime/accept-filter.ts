// RFC 5798 Accept_Mode, adapter part: keeps the `inet lvskeep` nftables table equal to what the instances' states
// ask for (accept-mode.ts). One `nft -f -` run per change, each replacing the whole table atomically, one at a
// time; changes that arrive meanwhile are folded into the next run, so the kernel ends at the newest state.
import { execFile } from 'node:child_process';

import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { droppedVips, isEmpty, nftScript, sameDropped, type AcceptModeEntry, type DroppedVips } from '../accept-mode.js';

/** Makes the kernel drop traffic to exactly these VIPs (nothing when empty). */
export interface AcceptFilter {
  apply(dropped: DroppedVips): Promise<void>;
}

/** `nft -f -` with the script on stdin: argv only, no shell. */
export function nftAcceptFilter(opts: { nft?: string; timeoutMs?: number } = {}): AcceptFilter {
  const nft = opts.nft ?? 'nft';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    apply: (dropped) =>
      new Promise((resolve, reject) => {
        const child = execFile(nft, ['-f', '-'], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, _stdout, stderr) => {
          if (!err) return resolve();
          const code = (err as NodeJS.ErrnoException).code;
          const why = code === 'ENOENT' ? `${nft} not found (Debian package nftables)` : (stderr.trim() || err.message).split('\n').slice(0, 3).join(' | ');
          reject(new Error(`nft -f - (table inet lvskeep): ${why}`, { cause: err }));
        });
        // An nft that is missing never reads stdin: ignore the resulting EPIPE, the callback reports ENOENT.
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(nftScript(dropped));
      }),
  };
}

export class AcceptModeController {
  private readonly entries = new Map<string, AcceptModeEntry>();
  private applied: DroppedVips | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  /**
   * Removing the table failed and nothing has succeeded since. Then another removal is not retried on every
   * state change: each try forks nft from the VRRP thread (in a kernel without nftables, such as the lab's
   * guest, every VRRP transition paid a fork of this process for the same error). A VIP to drop is still tried.
   */
  private emptyFailed = false;

  constructor(
    private readonly filter: AcceptFilter,
    private readonly logger: Logger,
  ) {}

  /** An instance's current state, or undefined when it stopped. */
  update(name: string, entry: AcceptModeEntry | undefined): void {
    if (entry) this.entries.set(name, entry);
    else this.entries.delete(name);
    this.kick();
  }

  /** Remove what an earlier run may have left (a crash, kill -9); rejects when nft cannot run. */
  async reset(): Promise<void> {
    await this.idle();
    try {
      await this.filter.apply({ v4: [], v6: [] });
    } catch (err) {
      this.emptyFailed = true;
      throw err;
    }
    this.emptyFailed = false;
    this.applied = { v4: [], v6: [] };
  }

  /** Wait for the pending change, then remove the table. */
  async close(): Promise<void> {
    this.entries.clear();
    await this.idle();
    if (this.applied && isEmpty(this.applied)) return;
    await this.filter.apply({ v4: [], v6: [] });
    this.applied = { v4: [], v6: [] };
  }

  /** Resolves when every change so far has reached the kernel (or failed and was logged). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    this.dirty = true;
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.dirty) this.kick(); // a change that came between the loop's last check and here
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const want = droppedVips(this.entries.values());
      if (this.applied && sameDropped(this.applied, want)) continue;
      if (!this.applied && this.emptyFailed && isEmpty(want)) continue;
      try {
        await this.filter.apply(want);
        this.applied = want;
        this.emptyFailed = false;
        this.logger.info({ dropped: [...want.v4, ...want.v6] }, isEmpty(want) ? 'accept: false: no VIP traffic dropped' : 'accept: false: dropping traffic to the VIPs of this non-owner Master');
      } catch (err) {
        // The state machine goes on; the VIPs keep accepting, which is the safer failure for a director.
        this.applied = undefined;
        if (isEmpty(want)) this.emptyFailed = true;
        this.logger.error({ err: errorMessage(err), dropped: [...want.v4, ...want.v6] }, 'accept: false could not be enforced');
      }
    }
  }
}
