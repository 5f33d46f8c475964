import { afterEach, describe, expect, it } from 'vitest';
import type { IpvsBackend, IpvsOp } from '../../../src/ipvs/backend.js';
import { createMemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { createReconciler } from '../../../src/ipvs/reconciler.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DestSpec, ServiceSpec } from '../../../src/ipvs/model.js';
import { latenessTimers, meterIpvsBackend, recordCheckResult, recordReconcilePass, type MonotonicTimers } from '../../../src/metrics/instruments.js';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.js';
import { parseExposition, samplesOf, valueOf } from './exposition.js';

const VS = 'tcp 203.0.113.1:80';
let m: Metrics;
afterEach(() => m?.close());

async function scrape() {
  return parseExposition(await m.registry.metrics());
}

const service: ServiceSpec = { key: { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 }, scheduler: 'wrr', schedulerFlags: [], onePacket: false };
const dest = (address: string): DestSpec => ({ family: 4, address, port: 80, forwarding: 'route', weight: 100, upperThreshold: 0, lowerThreshold: 0 });

describe('recordCheckResult', () => {
  it('counts results by class and observes the duration in seconds by virtual server and type', async () => {
    m = createMetrics({ defaultMetrics: false });
    const t = { virtualServer: VS, realServer: '198.51.100.11:80', type: 'http' };
    recordCheckResult(m, t, { ok: true, latencyMs: 12, reason: 'HTTP 200' });
    recordCheckResult(m, t, { ok: true, latencyMs: 30, reason: 'HTTP 200' });
    recordCheckResult(m, t, { ok: false, latencyMs: 2000, reason: 'timeout after 2000 ms' });
    recordCheckResult(m, t, { ok: false, latencyMs: Number.NaN, reason: 'HTTP 500' });
    const f = await scrape();
    const rs = { virtual_server: VS, real_server: '198.51.100.11:80' };
    expect(valueOf(f, 'lvskeep_check_results_total', { ...rs, result: 'success' })).toBe(2);
    expect(valueOf(f, 'lvskeep_check_results_total', { ...rs, result: 'timeout' })).toBe(1);
    expect(valueOf(f, 'lvskeep_check_results_total', { ...rs, result: 'failure' })).toBe(1);
    // NaN latency is not observed; the three others are.
    expect(valueOf(f, 'lvskeep_check_duration_seconds_count', { virtual_server: VS, type: 'http' })).toBe(3);
    expect(valueOf(f, 'lvskeep_check_duration_seconds_sum', { virtual_server: VS, type: 'http' })).toBeCloseTo(2.042, 6);
    expect(valueOf(f, 'lvskeep_check_duration_seconds_bucket', { virtual_server: VS, type: 'http', le: '0.025' })).toBe(1);
    expect(valueOf(f, 'lvskeep_check_duration_seconds_bucket', { virtual_server: VS, type: 'http', le: '+Inf' })).toBe(3);
  });
});

describe('recordReconcilePass', () => {
  it('observes pass durations in seconds', async () => {
    m = createMetrics({ defaultMetrics: false });
    recordReconcilePass(m, { durationMs: 250 });
    recordReconcilePass(m, { durationMs: -1 });
    const f = await scrape();
    expect(valueOf(f, 'lvskeep_ipvs_reconcile_duration_seconds_count')).toBe(1);
    expect(valueOf(f, 'lvskeep_ipvs_reconcile_duration_seconds_sum')).toBe(0.25);
  });
});

describe('recordReconcilePass as the reconciler onPass hook', () => {
  it('observes one duration per pass the reconciler runs', async () => {
    m = createMetrics({ defaultMetrics: false });
    const metrics = m;
    let clock = 0;
    const inner = createMemoryBackend();
    // Every kernel read costs 120 ms of injected time.
    const backend: IpvsBackend = {
      name: inner.name,
      dump: async (o) => ((clock += 120), inner.dump(o)),
      apply: (ops) => inner.apply(ops),
      flush: () => inner.flush(),
      zero: (s) => inner.zero(s),
      info: () => inner.info(),
      close: () => inner.close(),
    };
    const r = createReconciler({
      backend, logger: silentLogger(), interval: 60_000, owned: 'configured', now: () => clock,
      onPass: (p) => recordReconcilePass(metrics, p),
    });
    r.setDesired([{ ...service, dests: [dest('198.51.100.11')] }]);
    await r.reconcileNow(); // applies
    await r.reconcileNow(); // matches
    const f = await scrape();
    expect(valueOf(f, 'lvskeep_ipvs_reconcile_duration_seconds_count')).toBe(2);
    expect(valueOf(f, 'lvskeep_ipvs_reconcile_duration_seconds_sum')).toBeCloseTo(0.24, 9);
    await r.stop();
  });
});

describe('meterIpvsBackend', () => {
  it('counts applied and refused operations by kind, and passes results through unchanged', async () => {
    m = createMetrics({ defaultMetrics: false });
    // The "kernel" refuses one real server, as it would with EINVAL.
    const inner = createMemoryBackend({ fault: (op) => (op.op === 'add-dest' && op.dest.address === '198.51.100.13' ? 'EINVAL' : undefined) });
    const backend = meterIpvsBackend(inner, m);
    const ops: IpvsOp[] = [
      { op: 'add-service', service },
      { op: 'add-dest', service: service.key, dest: dest('198.51.100.11') },
      { op: 'add-dest', service: service.key, dest: dest('198.51.100.12') },
      { op: 'add-dest', service: service.key, dest: dest('198.51.100.13') },
    ];
    const result = await backend.apply(ops);
    expect(result.applied).toHaveLength(3);
    expect(result.failed).toHaveLength(1);
    expect((await backend.dump())[0]?.dests.map((d) => d.address)).toEqual(['198.51.100.11', '198.51.100.12']);
    expect(backend.name).toBe('memory');
    const f = await scrape();
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'add_service', result: 'ok' })).toBe(1);
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'add_dest', result: 'ok' })).toBe(2);
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'add_dest', result: 'error' })).toBe(1);
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'dump', result: 'ok' })).toBe(1);
  });

  it('counts a throwing dump as an error and rethrows; a throwing apply fails all its operations', async () => {
    m = createMetrics({ defaultMetrics: false });
    const broken: IpvsBackend = {
      name: 'netlink',
      dump: () => Promise.reject(new Error('EPERM: dump')),
      apply: () => Promise.reject(new Error('socket closed')),
      flush: () => Promise.resolve(),
      zero: () => Promise.resolve(),
      info: () => Promise.resolve({ version: '1.2.1', connTableSize: 4096 }),
      close: () => Promise.resolve(),
    };
    const backend = meterIpvsBackend(broken, m);
    await expect(backend.dump()).rejects.toThrow('EPERM: dump');
    await expect(backend.apply([{ op: 'del-service', key: service.key }, { op: 'del-service', key: service.key }])).rejects.toThrow('socket closed');
    await backend.flush();
    const f = await scrape();
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'dump', result: 'error' })).toBe(1);
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'del_service', result: 'error' })).toBe(2);
    expect(valueOf(f, 'lvskeep_ipvs_operations_total', { op: 'flush', result: 'ok' })).toBe(1);
    expect(samplesOf(f, 'lvskeep_ipvs_operations_total').every((s) => s.value > 0)).toBe(true);
  });
});

/** A manual monotonic clock: timers fire only when the test advances time, possibly past their deadline. */
class ManualTimers implements MonotonicTimers {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Jump to `to` (a stalled loop) and run what is due, in deadline order. */
  jump(to: number): void {
    this.t = to;
    const due = [...this.pending.entries()].filter(([, p]) => p.at <= to).sort((a, b) => a[1].at - b[1].at);
    for (const [id, p] of due) {
      this.pending.delete(id);
      p.fn();
    }
  }
}

describe('latenessTimers', () => {
  it('observes how late each timer ran, and still runs it; cleared timers are not observed', async () => {
    m = createMetrics({ defaultMetrics: false });
    const base = new ManualTimers();
    const timers = latenessTimers(base, m);
    const fired: string[] = [];
    timers.setTimeout(() => fired.push('advert'), 1000);
    const cleared = timers.setTimeout(() => fired.push('cleared'), 500);
    timers.clearTimeout(cleared);
    base.jump(1000); // on time
    timers.setTimeout(() => fired.push('master-down'), 3000);
    base.jump(1000 + 3000 + 400); // 400 ms late: the loop was blocked
    expect(fired).toEqual(['advert', 'master-down']);
    expect(timers.now()).toBe(4400);
    const f = await scrape();
    expect(valueOf(f, 'lvskeep_vrrp_timer_lateness_seconds_count')).toBe(2);
    expect(valueOf(f, 'lvskeep_vrrp_timer_lateness_seconds_sum')).toBeCloseTo(0.4, 9);
    expect(valueOf(f, 'lvskeep_vrrp_timer_lateness_seconds_bucket', { le: '0.25' })).toBe(1);
    expect(valueOf(f, 'lvskeep_vrrp_timer_lateness_seconds_bucket', { le: '0.5' })).toBe(2);
  });
});
