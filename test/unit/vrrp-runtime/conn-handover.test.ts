// ConnHandover on a fake clock: the push schedule, a slow push folding the pushes due meanwhile into one, and
// the last push on close.
import { describe, expect, it } from 'vitest';
import type { ConnPusher, ConnPushReport } from '../../../src/ipvs/conn-sync/pusher.js';
import { ConnHandover } from '../../../src/vrrp/runtime/conn-handover.js';
import { flush, logger, ManualTimers } from './fakes.js';

const REPORT: ConnPushReport = { conns: 1, datagrams: 1, skipped: {}, ms: 0 };

function slowPusher(timers: ManualTimers) {
  const started: number[] = [];
  const pending: (() => void)[] = [];
  let closed = 0;
  const pusher: ConnPusher = {
    push: () => {
      started.push(timers.now());
      return new Promise((resolve) => pending.push(() => resolve(REPORT)));
    },
    close: () => {
      closed++;
      return Promise.resolve();
    },
  };
  return { pusher, started, finishOne: () => pending.shift()?.(), closed: () => closed };
}

describe('ConnHandover', () => {
  it('a push that outlasts the next due times runs once more after it, not once per missed time', async () => {
    const timers = new ManualTimers();
    const p = slowPusher(timers);
    const h = new ConnHandover('vi1', { interface: 'eth1', syncId: 7 }, { pusher: p.pusher, logger, timers, pushAtMs: [0, 100, 200, 300] });
    const t0 = timers.now();
    h.start();
    expect(p.started.map((t) => t - t0)).toEqual([0]);
    await timers.advance(350); // 100, 200 and 300 fall due while the first push runs
    expect(p.started).toHaveLength(1);
    p.finishOne();
    await flush();
    expect(p.started.map((t) => t - t0)).toEqual([0, 350]);
    p.finishOne();
    await flush();
    expect(p.started).toHaveLength(2);
    await h.close();
    expect(p.closed()).toBe(1);
  });

  it('close during a hand-over waits for the running push and sends one last one; cancel stops the schedule', async () => {
    const timers = new ManualTimers();
    const p = slowPusher(timers);
    const h = new ConnHandover('vi1', { interface: 'eth1', syncId: 7 }, { pusher: p.pusher, logger, timers, pushAtMs: [0, 1000] });
    h.start();
    const closing = h.close();
    p.finishOne();
    await flush();
    p.finishOne();
    await closing;
    expect(p.started).toHaveLength(2);
    await timers.advance(2000);
    expect(p.started).toHaveLength(2);

    const q = slowPusher(timers);
    const h2 = new ConnHandover('vi1', { interface: 'eth1', syncId: 7 }, { pusher: q.pusher, logger, timers, pushAtMs: [500, 1000] });
    h2.start();
    h2.cancel();
    await timers.advance(2000);
    await h2.close();
    expect(q.started).toEqual([]);
  });
});
