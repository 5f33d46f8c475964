import { describe, expect, it } from 'vitest';
import { Pool } from '../../../src/pool/pool.js';
import type { DesiredDest, Health, PoolConfig, PoolEvent } from '../../../src/pool/types.js';

/** A fake clock the tests move by hand. */
class FakeClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function config(over: Partial<PoolConfig> = {}): PoolConfig {
  return {
    virtualServer: 'tcp 203.0.113.1:80',
    realServers: [
      { id: 'rs1', weight: 10 },
      { id: 'rs2', weight: 10 },
      { id: 'rs3', weight: 10 },
      { id: 'rs4', weight: 10 },
    ],
    onFailure: 'inhibit',
    quorum: 1,
    quorumHysteresis: 0,
    panicThresholdPercent: 0,
    slowStartMs: 0,
    drainTimeoutMs: 30_000,
    ...over,
  };
}

const allUp: Record<string, Health> = { rs1: 'up', rs2: 'up', rs3: 'up', rs4: 'up' };

function weights(d: DesiredDest[]): Record<string, number> {
  return Object.fromEntries(d.map((x) => [x.id, x.weight]));
}

function setup(over: Partial<PoolConfig> = {}, health: Record<string, Health> = allUp): { pool: Pool; clock: FakeClock } {
  const clock = new FakeClock();
  return { pool: new Pool(config(over), health, clock), clock };
}

function down(pool: Pool, id: string, reason = 'HTTP 503'): ReturnType<Pool['apply']> {
  return pool.apply({ kind: 'health', realServer: id, health: 'down', reason });
}
function up(pool: Pool, id: string, reason = 'HTTP 200'): ReturnType<Pool['apply']> {
  return pool.apply({ kind: 'health', realServer: id, health: 'up', reason });
}
function types(events: PoolEvent[]): string[] {
  return events.map((e) => (e.realServer ? `${e.type}:${e.realServer}:${e.from}->${e.to}` : `${e.type}:${e.from}->${e.to}`));
}

describe('on_failure', () => {
  it('inhibit keeps a failed server at weight 0 and restores its weight on recovery', () => {
    const { pool } = setup();
    expect(weights(down(pool, 'rs2').desired)).toEqual({ rs1: 10, rs2: 0, rs3: 10, rs4: 10 });
    expect(weights(up(pool, 'rs2').desired)).toEqual({ rs1: 10, rs2: 10, rs3: 10, rs4: 10 });
  });
  it('remove takes a failed server out and puts it back', () => {
    const { pool } = setup({ onFailure: 'remove' });
    expect(weights(down(pool, 'rs2').desired)).toEqual({ rs1: 10, rs3: 10, rs4: 10 });
    expect(weights(up(pool, 'rs2').desired)).toEqual({ rs1: 10, rs2: 10, rs3: 10, rs4: 10 });
  });
  it('emits one state event with the reason and the time spent in the previous state', () => {
    const { pool, clock } = setup();
    clock.advance(5000);
    const r = down(pool, 'rs1', 'connect timeout after 1000 ms');
    expect(r.events).toEqual([
      { type: 'real-server-state', virtualServer: 'tcp 203.0.113.1:80', realServer: 'rs1', from: 'up', to: 'down', reason: 'connect timeout after 1000 ms', durationMs: 5000, at: clock.t },
    ]);
    clock.advance(2000);
    expect(up(pool, 'rs1').events[0]).toMatchObject({ from: 'down', to: 'up', durationMs: 2000 });
    expect(up(pool, 'rs1').events).toEqual([]); // no change, no event
  });
  it('uses a dynamic weight reported by the check', () => {
    const { pool } = setup();
    const r = pool.apply({ kind: 'health', realServer: 'rs1', health: 'up', reason: 'exit 9', weight: 7 });
    expect(weights(r.desired).rs1).toBe(7);
  });
  it('servers without an initial health start down', () => {
    const { pool } = setup({}, { rs1: 'up' });
    expect(weights(pool.desired())).toEqual({ rs1: 10, rs2: 0, rs3: 0, rs4: 0 });
  });
  it('reports inputs for unknown servers instead of throwing', () => {
    const { pool } = setup();
    expect(types(down(pool, 'nope').events)).toEqual(['input-ignored:nope:->']);
  });
});

describe('slow start', () => {
  it('ramps 1 -> full in 10 steps of 1 s and says when the next step is due', () => {
    const { pool, clock } = setup({ slowStartMs: 10_000 });
    down(pool, 'rs1');
    clock.advance(3000);
    const start = clock.t;
    let r = up(pool, 'rs1');
    expect(types(r.events)).toEqual(['real-server-state:rs1:down->slow-start']);
    // (offset from recovery, weight) at each point the pool asked to be ticked; 1 s -> weight 1 is skipped
    const seen: [number, number][] = [[0, weights(r.desired).rs1 ?? -1]];
    for (let i = 0; i < 20 && r.nextChangeAt !== undefined; i++) {
      clock.t = r.nextChangeAt;
      r = pool.apply({ kind: 'tick' });
      seen.push([clock.t - start, weights(r.desired).rs1 ?? -1]);
    }
    expect(seen).toEqual([[0, 1], [2000, 2], [3000, 3], [4000, 4], [5000, 5], [6000, 6], [7000, 7], [8000, 8], [9000, 9], [10_000, 10]]);
    expect(types(r.events)).toEqual(['real-server-state:rs1:slow-start->up']);
    expect(pool.state.servers.rs1?.status).toBe('up');
  });
  it('skips steps where the weight would not change and restarts after another failure', () => {
    const { pool, clock } = setup({ slowStartMs: 10_000, realServers: [{ id: 'rs1', weight: 3 }] }, { rs1: 'down' });
    const start = clock.t;
    const r = up(pool, 'rs1');
    expect(weights(r.desired).rs1).toBe(1);
    expect(r.nextChangeAt).toBe(start + 7000); // floor(3*k/10) stays <= 1 until k=7 -> 2
    clock.t = start + 4000;
    expect(weights(pool.apply({ kind: 'tick' }).desired).rs1).toBe(1);
    clock.t = start + 5000;
    down(pool, 'rs1');
    clock.t = start + 6000;
    const again = up(pool, 'rs1');
    expect(weights(again.desired).rs1).toBe(1);
    expect(again.nextChangeAt).toBe(start + 6000 + 7000);
  });
  it('initial up servers do not ramp; step size can be set', () => {
    const { pool, clock } = setup({ slowStartMs: 4000, slowStartStepMs: 2000 });
    expect(weights(pool.desired()).rs1).toBe(10);
    down(pool, 'rs1');
    const r = up(pool, 'rs1');
    expect(weights(r.desired).rs1).toBe(1);
    expect(r.nextChangeAt).toBe(clock.t + 2000);
    clock.advance(2000);
    expect(weights(pool.apply({ kind: 'tick' }).desired).rs1).toBe(5);
  });
});

describe('quorum and sorry server', () => {
  const sorry = { id: 'sorry', weight: 1 };
  it('adds the sorry server below quorum and removes it only above quorum + hysteresis', () => {
    const { pool } = setup({ quorum: 25, quorumHysteresis: 10, sorryServer: sorry });
    expect(down(pool, 'rs1').events.map((e) => e.type)).toEqual(['real-server-state']); // 30 >= 25
    const lost = down(pool, 'rs2'); // 20 < 25
    expect(types(lost.events)).toEqual(['real-server-state:rs2:up->down', 'quorum-lost:up->down', 'sorry-on:sorry:off->on']);
    expect(lost.desired).toEqual([
      { id: 'rs1', weight: 0, sorry: false },
      { id: 'rs2', weight: 0, sorry: false },
      { id: 'rs3', weight: 0, sorry: false },
      { id: 'rs4', weight: 0, sorry: false },
      { id: 'sorry', weight: 1, sorry: true },
    ]);
    const edge = up(pool, 'rs2'); // 30: above quorum but below 35
    expect(types(edge.events)).toEqual(['real-server-state:rs2:down->up']);
    expect(edge.desired.some((d) => d.sorry)).toBe(true);
    const back = up(pool, 'rs1'); // 40 >= 35
    expect(types(back.events)).toEqual(['real-server-state:rs1:down->up', 'quorum-regained:down->up', 'sorry-off:sorry:on->off']);
    expect(weights(back.desired)).toEqual({ rs1: 10, rs2: 10, rs3: 10, rs4: 10 });
  });
  it('with remove, only the sorry server is left while quorum is lost', () => {
    const { pool } = setup({ onFailure: 'remove', quorum: 35, sorryServer: sorry });
    expect(weights(down(pool, 'rs1').desired)).toEqual({ sorry: 1 });
  });
  it('reports quorum lost without a sorry server too, and starts lost when it is', () => {
    const { pool } = setup({}, { rs1: 'up' });
    expect(types(down(pool, 'rs1').events)).toEqual(['real-server-state:rs1:up->down', 'quorum-lost:up->down']);
    const lostFromStart = setup({ sorryServer: sorry }, {}).pool;
    expect(lostFromStart.state.quorumUp).toBe(false);
    expect(lostFromStart.desired().filter((d) => d.sorry)).toEqual([{ id: 'sorry', weight: 1, sorry: true }]);
  });
});

describe('panic threshold', () => {
  it('keeps every server in below the threshold and leaves panic when back above', () => {
    const { pool } = setup({ panicThresholdPercent: 50 });
    down(pool, 'rs1');
    expect(weights(down(pool, 'rs2').desired)).toEqual({ rs1: 0, rs2: 0, rs3: 10, rs4: 10 }); // 50%: not below
    const p = down(pool, 'rs3'); // 25%
    expect(types(p.events)).toEqual(['real-server-state:rs3:up->down', 'panic-entered:normal->panic']);
    expect(p.events[1]?.reason).toBe('1 of 4 real servers healthy (25%), panic threshold 50%');
    expect(weights(p.desired)).toEqual({ rs1: 10, rs2: 10, rs3: 10, rs4: 10 });
    const left = up(pool, 'rs1');
    expect(types(left.events)).toEqual(['real-server-state:rs1:down->up', 'panic-left:panic->normal']);
    expect(weights(left.desired)).toEqual({ rs1: 10, rs2: 0, rs3: 0, rs4: 10 });
  });
  it('does not count operator-disabled servers as failures', () => {
    const { pool } = setup({ panicThresholdPercent: 50 });
    pool.apply({ kind: 'manual', realServer: 'rs1', action: 'maintenance' });
    pool.apply({ kind: 'manual', realServer: 'rs2', action: 'maintenance' });
    const r = down(pool, 'rs3'); // 1 of 2 eligible: 50%, not panic
    expect(pool.state.panic).toBe(false);
    expect(weights(r.desired)).toEqual({ rs1: 0, rs2: 0, rs3: 0, rs4: 10 });
  });
  it('a lost quorum with a sorry server wins over panic', () => {
    const { pool } = setup({ panicThresholdPercent: 50, sorryServer: { id: 's', weight: 1 } });
    for (const id of ['rs1', 'rs2', 'rs3', 'rs4']) down(pool, id);
    expect(pool.state.panic).toBe(true);
    expect(weights(pool.desired())).toEqual({ rs1: 0, rs2: 0, rs3: 0, rs4: 0, s: 1 });
  });
});

describe('flap damping', () => {
  const flap = { maxChanges: 3, windowMs: 60_000, penaltyMs: 30_000 };
  it('holds a server down after more than N changes in the window, then releases it', () => {
    const { pool, clock } = setup({ flap });
    down(pool, 'rs1');
    clock.advance(1000);
    up(pool, 'rs1');
    clock.advance(1000);
    down(pool, 'rs1');
    clock.advance(1000);
    const r = up(pool, 'rs1'); // 4th change in 3 s
    expect(types(r.events)).toEqual(['real-server-state:rs1:down->flapping']);
    expect(r.events[0]?.reason).toMatch(/^4 state changes within 60000 ms, held down until/);
    expect(weights(r.desired).rs1).toBe(0);
    expect(r.nextChangeAt).toBe(clock.t + 30_000);
    clock.advance(29_999);
    expect(pool.apply({ kind: 'tick' }).events).toEqual([]);
    clock.advance(1);
    const released = pool.apply({ kind: 'tick' });
    expect(types(released.events)).toEqual(['real-server-state:rs1:flapping->up']);
    expect(weights(released.desired).rs1).toBe(10);
  });
  it('changes spread wider than the window are not flapping', () => {
    const { pool, clock } = setup({ flap });
    for (let i = 0; i < 8; i++) {
      clock.advance(25_000);
      const r = i % 2 === 0 ? down(pool, 'rs1') : up(pool, 'rs1');
      expect(r.events.map((e) => e.to)).not.toContain('flapping');
    }
  });
  it('a change while held extends the hold', () => {
    const { pool, clock } = setup({ flap });
    for (let i = 0; i < 4; i++) (i % 2 === 0 ? down : up)(pool, 'rs1');
    clock.advance(20_000);
    const r = down(pool, 'rs1');
    expect(r.nextChangeAt).toBe(clock.t + 30_000);
  });
});

describe('manual states', () => {
  it('drain: weight 0, then drained at ActiveConn 0; remove takes it out then', () => {
    const { pool } = setup({ onFailure: 'remove' });
    const d = pool.apply({ kind: 'manual', realServer: 'rs1', action: 'drain' });
    expect(types(d.events)).toEqual(['real-server-state:rs1:up->draining']);
    expect(weights(d.desired).rs1).toBe(0);
    expect(pool.apply({ kind: 'active-conns', realServer: 'rs1', activeConns: 4 }).events).toEqual([]);
    const done = pool.apply({ kind: 'active-conns', realServer: 'rs1', activeConns: 0 });
    expect(types(done.events)).toEqual(['real-server-state:rs1:draining->drained']);
    expect(done.events[0]?.reason).toBe('drain finished: no active connections left');
    expect(weights(done.desired).rs1).toBeUndefined();
  });
  it('drain ends at drain_timeout; inhibit keeps it at weight 0', () => {
    const { pool, clock } = setup({ drainTimeoutMs: 30_000 });
    const d = pool.apply({ kind: 'manual', realServer: 'rs1', action: 'drain' });
    expect(d.nextChangeAt).toBe(clock.t + 30_000);
    pool.apply({ kind: 'active-conns', realServer: 'rs1', activeConns: 12 });
    clock.advance(30_000);
    const t = pool.apply({ kind: 'tick' });
    expect(t.events[0]).toMatchObject({ to: 'drained', reason: 'drain timeout after 30000 ms (12 active connections left)', durationMs: 30_000 });
    expect(weights(t.desired).rs1).toBe(0);
  });
  it('an ActiveConn of 0 seen before the drain does not end it', () => {
    const { pool } = setup();
    pool.apply({ kind: 'active-conns', realServer: 'rs1', activeConns: 0 });
    pool.apply({ kind: 'manual', realServer: 'rs1', action: 'drain' });
    expect(pool.state.servers.rs1?.status).toBe('draining');
  });
  it('maintenance survives health changes and enable restores health-driven state', () => {
    const { pool } = setup({ slowStartMs: 10_000 });
    pool.apply({ kind: 'manual', realServer: 'rs1', action: 'maintenance', reason: 'kernel upgrade' });
    expect(pool.state.servers.rs1?.status).toBe('maintenance');
    expect(down(pool, 'rs1').events).toEqual([]);
    expect(up(pool, 'rs1').events).toEqual([]);
    expect(weights(pool.desired()).rs1).toBe(0);
    const e = pool.apply({ kind: 'manual', realServer: 'rs1', action: 'enable' });
    expect(types(e.events)).toEqual(['real-server-state:rs1:maintenance->slow-start']);
    expect(weights(e.desired).rs1).toBe(1);
  });
  it('enable on a failed server leaves it down', () => {
    const { pool } = setup();
    pool.apply({ kind: 'manual', realServer: 'rs1', action: 'drain' });
    down(pool, 'rs1');
    expect(pool.state.servers.rs1?.status).toBe('draining');
    expect(types(pool.apply({ kind: 'manual', realServer: 'rs1', action: 'enable' }).events)).toEqual(['real-server-state:rs1:draining->down']);
  });
  it('is pure: a step does not mutate the previous state', () => {
    const { pool } = setup();
    const before = pool.state;
    const snapshot = JSON.stringify(before);
    down(pool, 'rs1');
    expect(JSON.stringify(before)).toBe(snapshot);
  });
});

describe('configuration reload', () => {
  it('keeps health and operator state of remaining servers, adds new ones down, drops removed ones', () => {
    const { pool } = setup({ quorum: 15 });
    down(pool, 'rs2');
    pool.apply({ kind: 'manual', realServer: 'rs3', action: 'maintenance' });
    const next = config({ quorum: 15, realServers: [{ id: 'rs1', weight: 5 }, { id: 'rs2', weight: 10 }, { id: 'rs3', weight: 10 }, { id: 'rs5', weight: 10 }] });
    const r = pool.reconfigure(next);
    expect(weights(r.desired)).toEqual({ rs1: 5, rs2: 0, rs3: 0, rs5: 0 });
    expect(pool.state.servers.rs4).toBeUndefined();
    expect(types(r.events)).toEqual(['quorum-lost:up->down']); // healthy weight 5 < 15 under the new weights
    expect(types(up(pool, 'rs5').events)).toEqual(['real-server-state:rs5:down->up', 'quorum-regained:down->up']);
  });
});
