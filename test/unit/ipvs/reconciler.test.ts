import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ApplyResult, DumpOptions, IpvsBackend, IpvsOp } from '../../../src/ipvs/backend.js';
import { silentLogger, type Logger } from '../../../src/log/logger.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import type { DesiredService, DestSpec, ServiceKey, ServiceState } from '../../../src/ipvs/model.js';
import { createReconciler, type PassResult, type ReconcileEvent } from '../../../src/ipvs/reconciler.js';
import { ManualClockTimers, settle } from '../support/manual-timers.js';


const web: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 };
const rs = (address: string, over: Partial<DestSpec> = {}): DestSpec => ({ family: 4, address, port: 80, forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over });
const table = (weights: Record<string, number>): DesiredService[] => [
  { key: web, scheduler: 'wlc', schedulerFlags: [], onePacket: false, dests: Object.entries(weights).map(([a, w]) => rs(a, { weight: w })) },
];

/** Counts calls and can hold dump() open, to observe overlap. */
class CountingBackend implements IpvsBackend {
  readonly name = 'memory' as const;
  dumps = 0;
  applies: IpvsOp[][] = [];
  flushes = 0;
  active = 0;
  maxActive = 0;
  gate?: Promise<void>;
  failDump?: Error;
  constructor(readonly inner = new MemoryBackend()) {}
  async dump(opts?: DumpOptions): Promise<ServiceState[]> {
    this.dumps++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.gate) await this.gate;
      if (this.failDump) throw this.failDump;
      return await this.inner.dump(opts);
    } finally {
      this.active--;
    }
  }
  async apply(ops: IpvsOp[]): Promise<ApplyResult> {
    this.applies.push(ops);
    return this.inner.apply(ops);
  }
  flush(): Promise<void> {
    this.flushes++;
    return this.inner.flush();
  }
  zero(): Promise<void> {
    return Promise.resolve();
  }
  info() {
    return this.inner.info();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(opts: { interval?: number; owned?: 'configured' | 'all'; logger?: Logger } = {}) {
  const timers = new ManualClockTimers();
  const backend = new CountingBackend();
  const drifts: ReconcileEvent[] = [];
  const r = createReconciler({
    backend,
    logger: opts.logger ?? silentLogger(),
    interval: opts.interval ?? 10_000,
    owned: opts.owned ?? 'configured',
    timers,
    now: () => timers.now,
    onDrift: (e) => drifts.push(e),
  });
  return { timers, backend, drifts, r };
}

function captureLogger(): { logger: Logger; lines: () => { level: number; msg: string; [k: string]: unknown }[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino<never>({ level: 'debug' }, stream), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

describe('createReconciler', () => {
  it('does nothing before a desired table is set, then applies it at start', async () => {
    const { timers, backend, r } = setup();
    r.start();
    await timers.advance(0);
    expect(backend.dumps).toBe(0);
    expect(await r.reconcileNow()).toMatchObject({ ops: [], error: 'no desired table yet' });
    r.setDesired(table({ '198.51.100.11': 1 }));
    await timers.advance(0);
    expect(backend.applies).toHaveLength(1);
    expect(await backend.inner.dump()).toMatchObject([{ key: web, dests: [{ address: '198.51.100.11' }] }]);
    await r.stop();
  });

  it('applies at start when the table was set before start', async () => {
    const { timers, backend, drifts, r } = setup();
    r.setDesired(table({ '198.51.100.11': 1, '198.51.100.12': 2 }));
    await timers.advance(1000);
    expect(backend.dumps).toBe(0);
    r.start();
    await timers.advance(0);
    expect(backend.applies[0]?.map((o) => o.op)).toEqual(['add-service', 'add-dest', 'add-dest']);
    expect(drifts).toEqual([]); // a new configuration is a change, not drift
    await r.stop();
  });

  it('coalesces a burst of desired changes into one pass', async () => {
    const { timers, backend, r } = setup();
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    const before = backend.dumps;
    for (let w = 2; w <= 6; w++) r.setDesired(table({ '198.51.100.11': w }));
    await timers.advance(0);
    expect(backend.dumps - before).toBe(1);
    expect((await backend.inner.dump())[0]?.dests[0]?.weight).toBe(6);
    await r.stop();
  });

  it('repairs a hand-run `ipvsadm -d` at the next interval and reports what it found and did', async () => {
    const { timers, backend, drifts, r } = setup({ interval: 5000 });
    r.setDesired(table({ '198.51.100.11': 1, '198.51.100.12': 1 }));
    r.start();
    await timers.advance(0);
    await backend.inner.apply([{ op: 'del-dest', service: web, dest: rs('198.51.100.12') }]); // someone ran ipvsadm -d
    await backend.inner.apply([{ op: 'edit-dest', service: web, dest: rs('198.51.100.11', { weight: 50 }) }]); // and ipvsadm -e
    await timers.advance(4999);
    expect(drifts).toEqual([]);
    await timers.advance(1);
    expect(drifts).toHaveLength(1);
    expect(drifts[0]).toMatchObject({
      kind: 'drift',
      reasons: ['interval'],
      found: ['tcp 203.0.113.1:80 -> 198.51.100.12:80: missing', 'tcp 203.0.113.1:80 -> 198.51.100.11:80: weight 50 -> 1'],
      done: ['-a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 1', '-e -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 1'],
    });
    expect((await backend.inner.dump())[0]?.dests.map((d) => [d.address, d.weight])).toEqual([
      ['198.51.100.11', 1],
      ['198.51.100.12', 1],
    ]);
    await r.stop();
  });

  it('rebuilds the table after a hand-run `ipvsadm -C` without ever flushing itself', async () => {
    const { timers, backend, drifts, r } = setup({ interval: 1000 });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    await backend.inner.flush();
    await timers.advance(1000);
    expect(drifts[0]?.done).toEqual(['-A -t 203.0.113.1:80 -s wlc', '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 1']);
    expect(backend.flushes).toBe(0);
    await r.stop();
  });

  it('a matching table costs one dump and no apply per interval', async () => {
    const { timers, backend, r } = setup({ interval: 1000 });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    await timers.advance(3000);
    expect(backend.applies).toHaveLength(1);
    expect(backend.dumps).toBe(4);
    await r.stop();
  });

  it('runs one pass at a time: requests during a pass coalesce into one more pass', async () => {
    const { timers, backend, r } = setup();
    r.setDesired(table({ '198.51.100.11': 1 }));
    let open: () => void = () => undefined;
    backend.gate = new Promise((resolve) => (open = resolve));
    const first = r.reconcileNow();
    await settle();
    const more = [r.reconcileNow(), r.reconcileNow(), r.reconcileNow()];
    await settle();
    expect(backend.active).toBe(1);
    backend.gate = undefined;
    open();
    await Promise.all([first, ...more]);
    expect(backend.maxActive).toBe(1);
    expect(backend.dumps).toBe(2);
    expect(timers.count).toBe(0);
  });

  it('a failing dump is logged and retried at the next interval; no rejection escapes', async () => {
    const cap = captureLogger();
    const { timers, backend, r } = setup({ interval: 1000, logger: cap.logger });
    r.setDesired(table({ '198.51.100.11': 1 }));
    backend.failDump = new Error("DUMP: ipvsadm -L -n --exact --tun-info: Can't initialize ipvs: Protocol not available");
    r.start();
    await timers.advance(0);
    expect(await r.reconcileNow()).toMatchObject({ ops: [], error: expect.stringMatching(/Protocol not available/) as unknown });
    expect(cap.lines().some((l) => l.level === 50 && /reconcile pass failed/.test(l.msg))).toBe(true);
    backend.failDump = undefined;
    await timers.advance(1000);
    expect(await backend.inner.dump()).toHaveLength(1);
    await r.stop();
  });

  it('logs every failed op by name and keeps retrying it', async () => {
    const cap = captureLogger();
    const timers = new ManualClockTimers();
    let refuse = true;
    const inner = new MemoryBackend({ fault: (op) => (refuse && op.op === 'add-dest' && op.dest.address === '198.51.100.12' ? 'ENOMEM' : undefined) });
    const r = createReconciler({ backend: inner, logger: cap.logger, interval: 1000, owned: 'configured', timers, now: () => timers.now });
    r.setDesired(table({ '198.51.100.11': 1, '198.51.100.12': 1 }));
    r.start();
    await timers.advance(0);
    const errors = cap.lines().filter((l) => l.level === 50).map((l) => l.msg);
    expect(errors).toEqual(['NEW_DEST 198.51.100.12:80 on tcp 203.0.113.1:80: ENOMEM']);
    const info = cap.lines().find((l) => l.msg === 'IPVS table updated to the configuration') as { done?: string[] } | undefined;
    expect(info?.done).toContain('FAILED -a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 1: NEW_DEST 198.51.100.12:80 on tcp 203.0.113.1:80: ENOMEM');
    refuse = false;
    await timers.advance(1000);
    expect((await inner.dump())[0]?.dests).toHaveLength(2);
    await r.stop();
  });

  it('an onDrift callback that throws is logged, not fatal', async () => {
    const cap = captureLogger();
    const timers = new ManualClockTimers();
    const inner = new MemoryBackend();
    const r = createReconciler({
      backend: inner, logger: cap.logger, interval: 1000, owned: 'configured', timers, now: () => timers.now,
      onDrift: () => {
        throw new Error('alert sink down');
      },
    });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    await inner.flush();
    await timers.advance(1000);
    expect(cap.lines().some((l) => l.msg === 'onDrift callback threw')).toBe(true);
    await timers.advance(1000);
    expect(await inner.dump()).toHaveLength(1);
    await r.stop();
  });

  it("with owned: 'all' removes services it was not told about, and reports them", async () => {
    const { timers, backend, drifts, r } = setup({ owned: 'all', interval: 1000 });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    const stray: ServiceKey = { kind: 'fwmark', family: 4, fwmark: 9 };
    await backend.inner.apply([{ op: 'add-service', service: { key: stray, scheduler: 'rr', schedulerFlags: [], onePacket: false } }]);
    await timers.advance(1000);
    expect(drifts[0]?.done).toEqual(['-D -f 9']);
    expect(await backend.inner.dump()).toHaveLength(1);
    await r.stop();
  });

  it('a quick stop() and start() leaves exactly one interval timer running', async () => {
    const { timers, backend, r } = setup({ interval: 1000 });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    const stopping = r.stop();
    r.start();
    await stopping;
    await timers.advance(0);
    expect(timers.count).toBe(1);
    const dumps = backend.dumps;
    await timers.advance(5000);
    expect(backend.dumps - dumps).toBe(5);
    await r.stop();
  });

  it('stop() cancels the timers and waits for a running pass', async () => {
    const { timers, backend, r } = setup({ interval: 1000 });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    let open: () => void = () => undefined;
    backend.gate = new Promise((resolve) => (open = resolve));
    void r.reconcileNow();
    await settle();
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    backend.gate = undefined;
    open();
    await stopping;
    const dumps = backend.dumps;
    r.setDesired(table({ '198.51.100.11': 2 }));
    await timers.advance(10_000);
    expect(backend.dumps).toBe(dumps);
    expect(timers.count).toBe(0);
  });
});

describe('createReconciler onPass', () => {
  /** A backend whose dump takes 40 ms of fake time, so every pass has a known duration. */
  function timedSetup(logger: Logger = silentLogger(), onPass?: (r: PassResult) => void) {
    const timers = new ManualClockTimers();
    const backend = new CountingBackend();
    const dump = backend.dump.bind(backend);
    backend.dump = async (opts?: DumpOptions) => {
      timers.now += 40;
      return dump(opts);
    };
    const passes: PassResult[] = [];
    const r = createReconciler({
      backend, logger, interval: 1000, owned: 'configured', timers, now: () => timers.now,
      onPass: onPass ?? ((p) => passes.push(p)),
    });
    return { timers, backend, passes, r };
  }

  it('is called once per pass with the result the pass resolved with, failed passes included', async () => {
    const { timers, backend, passes, r } = timedSetup();
    r.start();
    await timers.advance(0);
    expect(await r.reconcileNow()).toMatchObject({ error: 'no desired table yet' });
    expect(passes).toEqual([]); // nothing ran: no kernel read, nothing to time

    r.setDesired(table({ '198.51.100.11': 1 }));
    await timers.advance(0); // 'desired-changed': applies the table
    expect(passes).toHaveLength(1);
    expect(passes[0]).toMatchObject({ durationMs: 40, event: { kind: 'change' } });
    expect(passes[0]?.ops.map((o) => o.op)).toEqual(['add-service', 'add-dest']);

    await timers.advance(1000); // 'interval': table matches, a dump and nothing else
    expect(passes).toHaveLength(2);
    expect(passes[1]).toEqual({ ops: [], durationMs: 40 });

    backend.failDump = new Error('netlink: EPERM');
    const failed = await r.reconcileNow();
    expect(passes).toHaveLength(3);
    expect(passes[2]).toBe(failed);
    expect(failed).toMatchObject({ error: 'netlink: EPERM', durationMs: 40 });

    expect(passes).toHaveLength(backend.dumps);
    await r.stop();
  });

  it('a throwing onPass is logged and the reconciler carries on', async () => {
    const cap = captureLogger();
    let calls = 0;
    const { timers, backend, r } = timedSetup(cap.logger, () => {
      calls++;
      throw new Error('registry closed');
    });
    r.setDesired(table({ '198.51.100.11': 1 }));
    r.start();
    await timers.advance(0);
    await timers.advance(2100); // each dump takes 40 ms, so the interval passes run at 1040 and 2080
    expect(calls).toBe(3);
    expect(backend.dumps).toBe(3);
    expect(cap.lines().filter((l) => l.msg === 'onPass callback threw')).toHaveLength(3);
    expect(await backend.inner.dump()).toHaveLength(1);
    await r.stop();
  });
});
