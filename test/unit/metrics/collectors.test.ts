import { afterEach, describe, expect, it } from 'vitest';
import type { SinkStats } from '../../../src/alerts/dispatcher.js';
import { attachCollectors, type RealServerSnapshot } from '../../../src/metrics/collectors.js';
import { recordCheckResult } from '../../../src/metrics/instruments.js';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.js';
import type { VrrpInstanceStatus } from '../../../src/vrrp/runtime/instance.js';
import { parseExposition, samplesOf, valueOf } from './exposition.js';

const VS = 'tcp 203.0.113.1:80';
let m: Metrics;
afterEach(() => m?.close());

async function scrape() {
  return parseExposition(await m.registry.metrics());
}

/** The real status type, so that a change in the runtime's shape breaks this test's type check. */
function vrrpStatus(over: Partial<VrrpInstanceStatus> & Pick<VrrpInstanceStatus, 'name'>): VrrpInstanceStatus {
  return {
    state: 'Backup',
    basePriority: 100,
    effectivePriority: 100,
    holdingVips: false,
    faultReasons: [],
    lastChange: { at: 0, reason: 'x' },
    counters: { advertsSent: 0, advertsReceived: 0, sendErrors: 0, vipErrors: 0, drops: {} },
    timerLateness: { count: 0, lastMs: 0, maxMs: 0, meanMs: 0 },
    ...over,
  };
}

function sinkStats(over: Partial<SinkStats> = {}): SinkStats {
  return {
    accepted: 0, filtered: 0, deduplicated: 0, enqueued: 0, delivered: 0, skipped: 0, retries: 0, reminders: 0,
    droppedQueueFull: 0, droppedFailed: 0, queueDepth: 0, failing: false, ...over,
  };
}

describe('VRRP status collector', () => {
  it('reports state, priority and counters, and keeps counters monotonic across an instance restart', async () => {
    m = createMetrics({ defaultMetrics: false });
    let list: VrrpInstanceStatus[] = [
      vrrpStatus({ name: 'VI_1', state: 'Master', effectivePriority: 150, counters: { advertsSent: 10, advertsReceived: 2, sendErrors: 0, vipErrors: 0, drops: { 'bad-ttl': 3 } } }),
    ];
    attachCollectors(m, { vrrpStatus: () => list });
    let f = await scrape();
    expect(valueOf(f, 'lvskeep_vrrp_state', { instance: 'VI_1', state: 'MASTER' })).toBe(1);
    expect(valueOf(f, 'lvskeep_vrrp_state', { instance: 'VI_1', state: 'BACKUP' })).toBe(0);
    expect(valueOf(f, 'lvskeep_vrrp_effective_priority', { instance: 'VI_1' })).toBe(150);
    expect(valueOf(f, 'lvskeep_vrrp_adverts_sent_total', { instance: 'VI_1' })).toBe(10);
    expect(valueOf(f, 'lvskeep_vrrp_adverts_received_total', { instance: 'VI_1' })).toBe(2);
    expect(valueOf(f, 'lvskeep_vrrp_adverts_dropped_total', { instance: 'VI_1', reason: 'bad-ttl' })).toBe(3);

    // A second scrape without change adds nothing.
    f = await scrape();
    expect(valueOf(f, 'lvskeep_vrrp_adverts_sent_total', { instance: 'VI_1' })).toBe(10);

    // Reloaded: the instance restarted its counters at zero and has sent 4 since.
    list = [vrrpStatus({ name: 'VI_1', counters: { advertsSent: 4, advertsReceived: 2, sendErrors: 0, vipErrors: 0, drops: { 'bad-ttl': 1 } } })];
    f = await scrape();
    expect(valueOf(f, 'lvskeep_vrrp_adverts_sent_total', { instance: 'VI_1' })).toBe(14);
    expect(valueOf(f, 'lvskeep_vrrp_adverts_dropped_total', { instance: 'VI_1', reason: 'bad-ttl' })).toBe(4);
    expect(valueOf(f, 'lvskeep_vrrp_state', { instance: 'VI_1', state: 'BACKUP' })).toBe(1);
  });

  it('drops the state and priority series of an instance that was removed', async () => {
    m = createMetrics({ defaultMetrics: false });
    let list = [vrrpStatus({ name: 'VI_1' }), vrrpStatus({ name: 'VI_2' })];
    attachCollectors(m, { vrrpStatus: () => list });
    expect(samplesOf(await scrape(), 'lvskeep_vrrp_state')).toHaveLength(8);
    list = [vrrpStatus({ name: 'VI_2' })];
    const f = await scrape();
    expect(samplesOf(f, 'lvskeep_vrrp_state').every((s) => s.labels.instance === 'VI_2')).toBe(true);
    expect(valueOf(f, 'lvskeep_vrrp_effective_priority', { instance: 'VI_1' })).toBeUndefined();
  });

  it('folds unknown drop reasons into other without mixing their baselines', async () => {
    m = createMetrics({ defaultMetrics: false });
    let drops: Record<string, number> = { 'new-a': 2, 'new-b': 5 };
    attachCollectors(m, { vrrpStatus: () => [vrrpStatus({ name: 'VI_1', counters: { advertsSent: 0, advertsReceived: 0, sendErrors: 0, vipErrors: 0, drops } })] });
    expect(valueOf(await scrape(), 'lvskeep_vrrp_adverts_dropped_total', { instance: 'VI_1', reason: 'other' })).toBe(7);
    drops = { 'new-a': 3, 'new-b': 5 };
    expect(valueOf(await scrape(), 'lvskeep_vrrp_adverts_dropped_total', { instance: 'VI_1', reason: 'other' })).toBe(8);
  });

  it('survives a status function that throws: the scrape succeeds and the failure is counted', async () => {
    m = createMetrics({ defaultMetrics: false });
    attachCollectors(m, {
      vrrpStatus: () => {
        throw new Error('manager stopped');
      },
    });
    const f = await scrape();
    expect(samplesOf(f, 'lvskeep_vrrp_state')).toEqual([]);
    expect(valueOf(f, 'lvskeep_metrics_collect_errors_total', { source: 'vrrp' })).toBeGreaterThanOrEqual(1);
  });
});

describe('alert dispatcher collector', () => {
  it('reports deliveries, drops and queue length per sink, and treats a new dispatcher as a new source', async () => {
    m = createMetrics({ defaultMetrics: false });
    let stats: Record<string, SinkStats> = { pd: sinkStats({ delivered: 5, retries: 2, droppedFailed: 1, droppedQueueFull: 3, queueDepth: 4 }) };
    let dispatcher = { stats: () => stats };
    attachCollectors(m, { alerts: () => dispatcher });
    let f = await scrape();
    expect(valueOf(f, 'lvskeep_alert_deliveries_total', { sink: 'pd', result: 'delivered' })).toBe(5);
    expect(valueOf(f, 'lvskeep_alert_deliveries_total', { sink: 'pd', result: 'retried' })).toBe(2);
    expect(valueOf(f, 'lvskeep_alert_deliveries_total', { sink: 'pd', result: 'failed' })).toBe(1);
    expect(valueOf(f, 'lvskeep_alerts_dropped_total', { sink: 'pd', reason: 'queue_full' })).toBe(3);
    expect(valueOf(f, 'lvskeep_alerts_dropped_total', { sink: 'pd', reason: 'delivery_failed' })).toBe(1);
    expect(valueOf(f, 'lvskeep_alert_queue_length', { sink: 'pd' })).toBe(4);

    stats = { pd: sinkStats({ delivered: 7, droppedFailed: 1, droppedQueueFull: 3 }) };
    f = await scrape();
    expect(valueOf(f, 'lvskeep_alert_deliveries_total', { sink: 'pd', result: 'delivered' })).toBe(7);
    expect(valueOf(f, 'lvskeep_alert_queue_length', { sink: 'pd' })).toBe(0);

    // Sinks reloaded: a fresh dispatcher whose counts start at zero; 7 is more than 1 but it is new, not growth.
    stats = { pd: sinkStats({ delivered: 8 }) };
    dispatcher = { stats: () => stats };
    f = await scrape();
    expect(valueOf(f, 'lvskeep_alert_deliveries_total', { sink: 'pd', result: 'delivered' })).toBe(15);
  });

  it('shows no queue series while there is no dispatcher', async () => {
    m = createMetrics({ defaultMetrics: false });
    attachCollectors(m, { alerts: () => undefined });
    expect(samplesOf(await scrape(), 'lvskeep_alert_queue_length')).toEqual([]);
  });
});

describe('real server collector', () => {
  const rs = (realServer: string, state: string, weights?: RealServerSnapshot['weights']): RealServerSnapshot => ({ virtualServer: VS, realServer, state, ...(weights ? { weights } : {}) });

  it('sets health, state and the three weights from the snapshot, reading the source once per scrape', async () => {
    m = createMetrics({ defaultMetrics: false });
    let reads = 0;
    attachCollectors(m, {
      realServers: async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 5));
        return [rs('198.51.100.11:80', 'slow-start', { configured: 100, desired: 25, kernel: 20 }), rs('198.51.100.12:80', 'down', { configured: 100, desired: 0 })];
      },
    });
    const f = await scrape();
    expect(reads).toBe(1);
    const a = { virtual_server: VS, real_server: '198.51.100.11:80' };
    const b = { virtual_server: VS, real_server: '198.51.100.12:80' };
    expect(valueOf(f, 'lvskeep_real_server_up', a)).toBe(1);
    expect(valueOf(f, 'lvskeep_real_server_up', b)).toBe(0);
    expect(valueOf(f, 'lvskeep_real_server_state', { ...a, state: 'slow-start' })).toBe(1);
    expect(valueOf(f, 'lvskeep_real_server_state', { ...a, state: 'up' })).toBe(0);
    expect(valueOf(f, 'lvskeep_real_server_weight', { ...a, kind: 'configured' })).toBe(100);
    expect(valueOf(f, 'lvskeep_real_server_weight', { ...a, kind: 'desired' })).toBe(25);
    expect(valueOf(f, 'lvskeep_real_server_weight', { ...a, kind: 'kernel' })).toBe(20);
    expect(valueOf(f, 'lvskeep_real_server_weight', { ...b, kind: 'kernel' })).toBeUndefined();
    await scrape();
    expect(reads).toBe(2);
  });

  it('prefers an explicit health verdict over the one derived from the state', async () => {
    m = createMetrics({ defaultMetrics: false });
    attachCollectors(m, { realServers: () => [{ ...rs('198.51.100.11:80', 'maintenance'), health: 'down' }] });
    expect(valueOf(await scrape(), 'lvskeep_real_server_up', { virtual_server: VS, real_server: '198.51.100.11:80' })).toBe(0);
  });

  it('gives up on a source that does not answer in time, leaving no stale series', async () => {
    m = createMetrics({ defaultMetrics: false });
    let hang = false;
    attachCollectors(m, { realServers: () => (hang ? new Promise<never>(() => undefined) : [rs('198.51.100.11:80', 'up')]) }, { timeoutMs: 50 });
    expect(samplesOf(await scrape(), 'lvskeep_real_server_up')).toHaveLength(1);
    hang = true;
    const t0 = Date.now();
    const f = await scrape();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(samplesOf(f, 'lvskeep_real_server_up')).toEqual([]);
    expect(valueOf(f, 'lvskeep_metrics_collect_errors_total', { source: 'real_servers' })).toBe(1);
  });

  it('drops the check-result series of a real server that left the configuration', async () => {
    m = createMetrics({ defaultMetrics: false });
    let list = [rs('198.51.100.11:80', 'up'), rs('198.51.100.12:80', 'up')];
    attachCollectors(m, { realServers: () => list });
    for (const r of ['198.51.100.11:80', '198.51.100.12:80']) {
      recordCheckResult(m, { virtualServer: VS, realServer: r, type: 'tcp' }, { ok: true, latencyMs: 3, reason: 'connected' });
      recordCheckResult(m, { virtualServer: VS, realServer: r, type: 'tcp' }, { ok: false, latencyMs: 1000, reason: 'connect timeout after 1000 ms' });
    }
    expect(samplesOf(await scrape(), 'lvskeep_check_results_total')).toHaveLength(4);
    list = [rs('198.51.100.11:80', 'up')];
    await scrape(); // prunes
    const f = await scrape();
    expect(samplesOf(f, 'lvskeep_check_results_total').map((s) => s.labels.real_server)).toEqual(['198.51.100.11:80', '198.51.100.11:80']);
  });
});
