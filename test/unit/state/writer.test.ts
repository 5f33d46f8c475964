import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import { loadState } from '../../../src/state/file.js';
import type { StatePatch } from '../../../src/state/patch.js';
import { emptyState, type PersistedState } from '../../../src/state/schema.js';
import { createStateWriter, type WriterTimers } from '../../../src/state/writer.js';

/** A clock that moves only when told; due timers run in time order. */
function fakeClock(start = 1_000_000): WriterTimers & { advance(ms: number): void; pending(): number } {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => {
      timers.delete(h as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}

/** Lets queued promise callbacks (the write chain) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function down(rs: string, since: number): StatePatch {
  return { realServers: { web: { [rs]: { health: { state: 'down', since } } } } };
}

function recordingSave(): { save: (dir: string, s: PersistedState) => Promise<void>; writes: PersistedState[] } {
  const writes: PersistedState[] = [];
  return { writes, save: async (_dir, s) => void writes.push(structuredClone(s)) };
}

describe('createStateWriter', () => {
  it('coalesces a burst of updates into one write after debounceMs of quiet', async () => {
    const clock = fakeClock();
    const { save, writes } = recordingSave();
    const w = createStateWriter({ dir: '/unused', debounceMs: 500, logger: silentLogger(), timers: clock, save });
    for (let i = 0; i < 50; i++) {
      w.update(down(`198.51.100.${i}:80`, i));
      clock.advance(10);
    }
    await settle();
    expect(writes).toHaveLength(0);
    // The last update was at +490: the write is due at +990, not before.
    clock.advance(489);
    await settle();
    expect(writes).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(writes).toHaveLength(1);
    expect(Object.keys(writes[0]!.realServers.web!)).toHaveLength(50);
    expect(writes[0]!.savedAt).toBe(1_000_000 + 990);
  });

  it('still writes at least every maxDelayMs under a steady stream of updates', async () => {
    const clock = fakeClock();
    const { save, writes } = recordingSave();
    const w = createStateWriter({ dir: '/unused', debounceMs: 100, maxDelayMs: 1000, logger: silentLogger(), timers: clock, save });
    for (let i = 0; i < 300; i++) {
      w.update(down('a', i)); // every 50 ms: never 100 ms of quiet
      clock.advance(50);
      await settle();
    }
    // 15 s of updates with a write at least every second: about 15 writes, never one per update.
    expect(writes.length).toBeGreaterThanOrEqual(14);
    expect(writes.length).toBeLessThanOrEqual(16);
  });

  it('does not write when an update changes nothing', async () => {
    const clock = fakeClock();
    const { save, writes } = recordingSave();
    const w = createStateWriter({ dir: '/unused', debounceMs: 100, logger: silentLogger(), timers: clock, save });
    w.update(down('a', 1));
    clock.advance(100);
    await settle();
    w.update(down('a', 1));
    clock.advance(1000);
    await settle();
    expect(writes).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('flush writes at once and only when dirty; writes never overlap', async () => {
    const clock = fakeClock();
    let active = 0;
    let maxActive = 0;
    const writes: PersistedState[] = [];
    let release: () => void = () => undefined;
    const save = async (_dir: string, s: PersistedState): Promise<void> => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => (release = r));
      writes.push(s);
      active--;
    };
    const w = createStateWriter({ dir: '/unused', debounceMs: 100, logger: silentLogger(), timers: clock, save });
    w.update(down('a', 1));
    const first = w.flush();
    await settle();
    w.update(down('b', 2));
    const second = w.flush();
    await settle();
    expect(active).toBe(1);
    release();
    await settle();
    release();
    await Promise.all([first, second]);
    expect(maxActive).toBe(1);
    expect(writes.map((s) => Object.keys(s.realServers.web!))).toEqual([['a'], ['a', 'b']]);
    await w.flush();
    expect(writes).toHaveLength(2);
  });

  it('logs a failed write and retries after maxDelayMs without losing the change', async () => {
    const clock = fakeClock();
    let fail = true;
    const writes: PersistedState[] = [];
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((obj: { err: string }, msg: string) => void warnings.push(`${msg}: ${obj.err}`)) as typeof logger.warn; // capture only warnings
    const save = async (_dir: string, s: PersistedState): Promise<void> => {
      if (fail) throw new Error('cannot save state to /var/lib/lvskeep/state.json: ENOSPC');
      writes.push(s);
    };
    const w = createStateWriter({ dir: '/var/lib/lvskeep', debounceMs: 100, maxDelayMs: 2000, logger, timers: clock, save });
    w.update(down('a', 1));
    clock.advance(100);
    await settle();
    expect(warnings).toEqual(['saving state failed; will retry: cannot save state to /var/lib/lvskeep/state.json: ENOSPC']);
    clock.advance(1999);
    await settle();
    expect(warnings).toHaveLength(1);
    fail = false;
    clock.advance(1);
    await settle();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.realServers.web!.a).toBeDefined();
  });

  it('close flushes and drops later updates; initial state is kept in the first write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lvskeep-writer-'));
    try {
      const initial: PersistedState = { ...emptyState(), vrrp: { VI_1: { state: 'BACKUP', since: 5 } } };
      const w = createStateWriter({ dir, debounceMs: 60_000, logger: silentLogger(), initial });
      w.update(down('a', 7));
      await w.close();
      w.update(down('b', 8));
      await w.flush();
      const r = await loadState(dir);
      expect(r.kind).toBe('loaded');
      if (r.kind !== 'loaded') return;
      expect(r.state.vrrp).toEqual({ VI_1: { state: 'BACKUP', since: 5 } });
      expect(Object.keys(r.state.realServers.web!)).toEqual(['a']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
