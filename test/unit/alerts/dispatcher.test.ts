import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import type { AlertMessage, SinkSettings } from '../../../src/alerts/types.js';
import { createEvent, type EventBody } from '../../../src/events/types.js';
import { FakeClock, FakeSink, settings, settle, type Behaviour } from './fakes.js';

const vs = 'tcp 203.0.113.1:80';
const down = (clock: FakeClock, n: number) => createEvent({ type: 'rs.down', virtualServer: vs, realServer: `198.51.100.${n}:80`, reason: 'HTTP 503', latencyMs: 3 }, clock.now());
const up = (clock: FakeClock, n: number) => createEvent({ type: 'rs.up', virtualServer: vs, realServer: `198.51.100.${n}:80`, reason: 'HTTP 200' }, clock.now());

/** `type:realServer` of each event in a message (digests have none). */
function tags(m: AlertMessage | undefined): string[] {
  if (!m || m.kind === 'digest') return [];
  return m.events.map((e) => ('realServer' in e ? `${e.type}:${e.realServer}` : e.type));
}
const rsOf = (m: AlertMessage | undefined) => tags(m).map((t) => t.split(':').slice(1).join(':'));

function setup(over: Partial<SinkSettings> = {}, behaviours?: Behaviour[], acceptsGroups = true) {
  const clock = new FakeClock();
  const sink = new FakeSink('hook', clock, behaviours, acceptsGroups);
  const health: EventBody[] = [];
  const d = new AlertDispatcher({
    sinks: [{ settings: settings('hook', over), sink }],
    clock,
    random: () => 1, // full backoff: delays are exact powers of two
    backoff: { baseMs: 1000, maxMs: 60_000 },
    onDeliveryHealth: (b) => health.push(b),
  });
  return { clock, sink, d, health };
}

describe('AlertDispatcher publish', () => {
  it('returns before the sink is called and delivers in order', async () => {
    const { clock, sink, d } = setup();
    d.publish(down(clock, 11));
    d.publish(up(clock, 11));
    expect(sink.calls.length).toBe(0); // nothing happened synchronously
    await clock.advance(0);
    expect(sink.calls.map((c) => tags(c.message)[0]?.split(':')[0])).toEqual(['rs.down', 'rs.up']);
    expect(d.stats().hook).toMatchObject({ accepted: 2, delivered: 2, queueDepth: 0 });
  });

  it('publish stays cheap while the sink hangs', async () => {
    const { clock, sink, d } = setup({ queueSize: 1000 }, ['hang']);
    d.publish(down(clock, 1));
    await clock.advance(0);
    // CPU time, not wall time: on a loaded machine the process can wait longer than the bound for a core.
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 500; i++) d.publish(down(clock, i + 2));
    const cpu = process.cpuUsage(cpu0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(200);
    expect(sink.calls.length).toBe(1);
  });
});

describe('grouping', () => {
  it('turns ten real servers down within the window into one message', async () => {
    const { clock, sink, d } = setup({ groupWindowMs: 5_000 });
    const t0 = clock.now();
    for (let n = 1; n <= 10; n++) {
      d.publish(down(clock, n));
      await clock.advance(100);
    }
    expect(sink.calls.length).toBe(0);
    await clock.advance(5_000);
    expect(sink.calls.length).toBe(1);
    const m = sink.calls[0]?.message;
    expect(m?.kind).toBe('group');
    expect(m?.kind === 'group' ? rsOf(m) : []).toEqual(Array.from({ length: 10 }, (_, i) => `198.51.100.${i + 1}:80`));
    expect(sink.calls[0]?.at).toBe(t0 + 5_000); // the window starts with the first event
  });

  it('sends a lone event as a plain event message', async () => {
    const { clock, sink, d } = setup({ groupWindowMs: 5_000 });
    d.publish(down(clock, 1));
    await clock.advance(5_000);
    expect(sink.calls.map((c) => c.message.kind)).toEqual(['event']);
  });

  it('keeps an incident in order across groups: down, up, down arrive as down, up, down', async () => {
    const { clock, sink, d } = setup({ groupWindowMs: 5_000 });
    d.publish(down(clock, 1));
    d.publish(down(clock, 2));
    await clock.advance(100);
    d.publish(up(clock, 1)); // flushes the waiting down group first
    await clock.advance(100);
    d.publish(down(clock, 1)); // flushes the waiting up group first
    await clock.advance(10_000);
    const seq = sink.calls.flatMap((c) => tags(c.message));
    expect(seq).toEqual(['rs.down:198.51.100.1:80', 'rs.down:198.51.100.2:80', 'rs.up:198.51.100.1:80', 'rs.down:198.51.100.1:80']);
  });

  it('does not group for sinks that need one request per incident', async () => {
    const { clock, sink, d } = setup({ groupWindowMs: 5_000 }, undefined, false);
    d.publish(down(clock, 1));
    d.publish(down(clock, 2));
    await clock.advance(0);
    expect(sink.calls.map((c) => c.message.kind)).toEqual(['event', 'event']);
  });
});

describe('dedup and reminders', () => {
  it('suppresses a duplicate within dedup_window and counts it', async () => {
    const { clock, sink, d } = setup({ dedupWindowMs: 60_000 });
    d.publish(down(clock, 1));
    await clock.advance(1_000);
    d.publish(down(clock, 1));
    await clock.advance(60_000);
    d.publish(down(clock, 1));
    await clock.advance(0);
    expect(sink.calls.length).toBe(2);
    expect(d.stats().hook?.deduplicated).toBe(1);
  });

  it('reminds every `repeat` while a problem is open and stops when it resolves', async () => {
    const { clock, sink, d } = setup({ repeatMs: 60_000 });
    d.publish(down(clock, 1));
    await clock.advance(150_000);
    expect(sink.calls.map((c) => c.message.kind)).toEqual(['event', 'reminder', 'reminder']);
    const r = sink.calls[1]?.message;
    expect(r?.kind === 'reminder' && r.openSince).toBe(sink.calls[0]?.at);
    d.publish(up(clock, 1));
    await clock.advance(300_000);
    expect(sink.calls.map((c) => c.message.kind)).toEqual(['event', 'reminder', 'reminder', 'event']);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retries', () => {
  it('retries with exponential backoff, then delivers; order kept behind the retried message', async () => {
    const fail = { ok: false as const, retryable: true, error: 'HTTP 500' };
    const { clock, sink, d } = setup({ retries: 5 }, [fail, fail, fail, { ok: true }]);
    d.publish(down(clock, 1));
    d.publish(down(clock, 2));
    const t0 = clock.now();
    await clock.advance(20_000);
    expect(sink.calls.map((c) => c.at - t0)).toEqual([0, 1000, 3000, 7000, 7000]);
    expect(sink.calls.map((c) => rsOf(c.message)[0])).toEqual(['198.51.100.1:80', '198.51.100.1:80', '198.51.100.1:80', '198.51.100.1:80', '198.51.100.2:80']);
    expect(d.stats().hook).toMatchObject({ retries: 3, delivered: 2, droppedFailed: 0 });
  });

  it('waits for Retry-After instead of its own backoff', async () => {
    const { clock, sink, d } = setup({ retries: 2 }, [{ ok: false, retryable: true, retryAfterMs: 30_000, error: 'HTTP 429' }, { ok: true }]);
    d.publish(down(clock, 1));
    const t0 = clock.now();
    await clock.advance(29_999);
    expect(sink.calls.length).toBe(1);
    await clock.advance(1);
    expect(sink.calls.map((c) => c.at - t0)).toEqual([0, 30_000]);
  });

  it('gives up after `retries`, counts the drop, reports the sink failing and later recovered', async () => {
    const fail = { ok: false as const, retryable: true, error: 'HTTP 503' };
    const { clock, sink, d, health } = setup({ retries: 2 }, [fail, fail, fail, { ok: true }]);
    d.publish(down(clock, 1));
    await clock.advance(60_000);
    expect(sink.calls.length).toBe(3);
    expect(d.stats().hook).toMatchObject({ droppedFailed: 1, failing: true, delivered: 0 });
    expect(health).toEqual([{ type: 'alert.delivery_failing', sink: 'hook', error: 'HTTP 503', dropped: 1 }]);
    d.publish(down(clock, 2));
    await clock.advance(0);
    expect(d.stats().hook).toMatchObject({ delivered: 1, failing: false });
    expect(health[1]).toEqual({ type: 'alert.delivery_recovered', sink: 'hook' });
  });

  it('does not retry a rejected request (4xx)', async () => {
    const { clock, sink, d } = setup({ retries: 5 }, [{ ok: false, retryable: false, error: 'HTTP 400' }]);
    d.publish(down(clock, 1));
    await clock.advance(60_000);
    expect(sink.calls.length).toBe(1);
    expect(d.stats().hook?.droppedFailed).toBe(1);
  });

  it('times out a hanging sink, aborts it and retries', async () => {
    const { clock, sink, d } = setup({ retries: 1, timeoutMs: 2_000 }, ['hang']);
    d.publish(down(clock, 1));
    await clock.advance(1_999);
    expect(sink.calls.length).toBe(1);
    await clock.advance(1);
    expect(sink.aborted).toBe(1);
    await clock.advance(1_000 + 2_000);
    expect(sink.calls.length).toBe(2);
    expect(d.stats().hook).toMatchObject({ droppedFailed: 1, retries: 1 });
  });

  it('treats a throwing sink as a failed attempt', async () => {
    const { clock, d } = setup({ retries: 0 }, [new Error('socket exploded')]);
    d.publish(down(clock, 1));
    await clock.advance(0);
    expect(d.stats().hook?.droppedFailed).toBe(1);
  });
});

describe('queue bound', () => {
  it('holds at most queue_size messages and counts what it drops', async () => {
    const { clock, sink, d } = setup({ queueSize: 5, retries: 0, timeoutMs: 60_000 }, ['hang']);
    for (let n = 1; n <= 20; n++) d.publish(down(clock, n));
    await clock.advance(0);
    // one in flight, five waiting, fourteen dropped
    expect(d.stats().hook).toMatchObject({ queueDepth: 5, droppedQueueFull: 14 });
    sink.script([{ ok: true }]);
    await clock.advance(60_000);
    expect(sink.calls.map((c) => rsOf(c.message)[0])).toEqual(['1', '2', '3', '4', '5', '6'].map((n) => `198.51.100.${n}:80`));
  });
});

describe('sendTest, sendMessage and close', () => {
  it('sendTest goes to the named sink regardless of filters and reports the outcome', async () => {
    const clock = new FakeClock();
    const a = new FakeSink('a', clock);
    const b = new FakeSink('b', clock, [{ ok: false, retryable: false, error: 'HTTP 401' }]);
    const d = new AlertDispatcher({
      sinks: [
        { settings: settings('a', { events: ['quorum.*'], minSeverity: 'critical' }), sink: a },
        { settings: settings('b'), sink: b },
      ],
      clock,
    });
    const p = d.sendTest();
    await clock.advance(0);
    await expect(p).resolves.toEqual([
      { sink: 'a', outcome: { ok: true } },
      { sink: 'b', outcome: { ok: false, retryable: false, error: 'HTTP 401' } },
    ]);
    expect(a.calls[0]?.message.kind).toBe('test');
    expect(() => d.sendTest('nope')).toThrow('no alert sink named nope (have: a, b)');
  });

  it('refuses duplicate sink names', () => {
    const clock = new FakeClock();
    expect(() => new AlertDispatcher({ sinks: [{ settings: settings('x'), sink: new FakeSink('x', clock) }, { settings: settings('x'), sink: new FakeSink('x', clock) }] }))
      .toThrow('duplicate sink name x');
  });

  it('close sends what groups hold, then stops taking events', async () => {
    const { clock, sink, d } = setup({ groupWindowMs: 60_000 });
    d.publish(down(clock, 1));
    d.publish(down(clock, 2));
    const closing = d.close(5_000);
    await clock.advance(0);
    await expect(closing).resolves.toBe(0);
    d.publish(down(clock, 3));
    await clock.advance(60_000);
    expect(sink.calls.map((c) => c.message.kind)).toEqual(['group']);
  });

  it('close gives up on a hanging sink after the grace time and reports what is left', async () => {
    const { clock, d, sink } = setup({ timeoutMs: 60_000, retries: 3 }, ['hang']);
    d.publish(down(clock, 1));
    d.publish(down(clock, 2));
    await clock.advance(0);
    const closing = d.close(1_000);
    await clock.advance(1_000);
    await expect(closing).resolves.toBe(2);
    await settle();
    expect(sink.aborted).toBe(1);
    // The queued one is not attempted after close: nothing is left waiting on the hanging receiver.
    expect(sink.calls.length).toBe(1);
    expect(d.stats().hook).toMatchObject({ droppedFailed: 2, queueDepth: 0 });
  });
});
