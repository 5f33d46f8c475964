// A fake kernel sync-daemon table for the lvs_sync controller and manager tests.
import { IpvsError } from '../../../src/ipvs/backend.js';
import type { DaemonConfig } from '../../../src/ipvs/netlink/attrs.js';
import type { SyncDaemonBackend, SyncDaemonState } from '../../../src/vrrp/runtime/lvs-sync.js';
import type { ManualTimers } from './fakes.js';

/** A kernel's sync-daemon table with a call log; failures and slow stops are switched on per test. */
export class FakeSyncKernel implements SyncDaemonBackend {
  running: DaemonConfig[] = [];
  readonly log: string[] = [];
  failStart: Error | undefined;
  /** DEL_DAEMON answers never; the daemon disappears after `slowStopMs` (never if undefined). */
  hangStop = false;
  slowStopMs: number | undefined;

  constructor(private readonly timers?: ManualTimers) {}

  startDaemon(d: DaemonConfig): Promise<void> {
    this.log.push(`start ${d.state} ${d.mcastIfn} ${d.syncId}`);
    if (this.failStart) return Promise.reject(this.failStart);
    if (this.running.some((r) => r.state === d.state)) return Promise.reject(new IpvsError({ op: 'daemon' }, 'EEXIST', `NEW_DAEMON ${d.state}: EEXIST`));
    this.running.push({ ...d });
    return Promise.resolve();
  }
  stopDaemon(state: SyncDaemonState): Promise<void> {
    this.log.push(`stop ${state}`);
    if (!this.running.some((r) => r.state === state)) return Promise.reject(new IpvsError({ op: 'daemon' }, 'ESRCH', `DEL_DAEMON ${state}: ESRCH`));
    if (this.hangStop) {
      if (this.slowStopMs !== undefined && this.timers) {
        this.timers.setTimeout(() => {
          this.running = this.running.filter((r) => r.state !== state);
        }, this.slowStopMs);
      }
      return new Promise<void>(() => undefined);
    }
    this.running = this.running.filter((r) => r.state !== state);
    return Promise.resolve();
  }
  daemons(): Promise<DaemonConfig[]> {
    return Promise.resolve(this.running.map((d) => ({ ...d })));
  }
  states(): SyncDaemonState[] {
    return this.running.map((d) => d.state).sort();
  }
}

