import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.js';
import { VERSION } from '../../../src/version.js';
import { parseExposition, samplesOf, valueOf } from './exposition.js';

const open: Metrics[] = [];
function metrics(opts?: Parameters<typeof createMetrics>[0]): Metrics {
  const m = createMetrics(opts);
  open.push(m);
  return m;
}
afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

/** Every family the brief asks for, with its Prometheus type. */
const REQUIRED: Record<string, string> = {
  lvskeep_vrrp_state: 'gauge',
  lvskeep_vrrp_transitions_total: 'counter',
  lvskeep_vrrp_adverts_sent_total: 'counter',
  lvskeep_vrrp_adverts_received_total: 'counter',
  lvskeep_vrrp_adverts_dropped_total: 'counter',
  lvskeep_vrrp_timer_lateness_seconds: 'histogram',
  lvskeep_vrrp_effective_priority: 'gauge',
  lvskeep_check_results_total: 'counter',
  lvskeep_check_duration_seconds: 'histogram',
  lvskeep_real_server_up: 'gauge',
  lvskeep_real_server_state: 'gauge',
  lvskeep_real_server_weight: 'gauge',
  lvskeep_ipvs_operations_total: 'counter',
  lvskeep_ipvs_drift_repairs_total: 'counter',
  lvskeep_ipvs_errors_total: 'counter',
  lvskeep_ipvs_reconcile_duration_seconds: 'histogram',
  lvskeep_alert_deliveries_total: 'counter',
  lvskeep_alerts_dropped_total: 'counter',
  lvskeep_alert_queue_length: 'gauge',
  lvskeep_build_info: 'gauge',
  lvskeep_config_reloads_total: 'counter',
  lvskeep_event_loop_delay_seconds: 'gauge',
};

describe('createMetrics', () => {
  it('declares every lvskeep metric with its type, and the output is valid exposition text', async () => {
    const m = metrics();
    const families = parseExposition(await m.registry.metrics());
    for (const [name, type] of Object.entries(REQUIRED)) {
      expect(families.get(name)?.type, name).toBe(type);
      expect(families.get(name)?.help, name).toBeTruthy();
    }
    for (const name of families.keys()) expect(name.startsWith('lvskeep_'), name).toBe(true);
  });

  it('puts build info, zeroed reload/drift/error counters and the event-loop gauge in a fresh registry', async () => {
    const m = metrics({ version: '9.8.7' });
    const f = parseExposition(await m.registry.metrics());
    expect(valueOf(f, 'lvskeep_build_info', { version: '9.8.7' })).toBe(1);
    expect(valueOf(f, 'lvskeep_config_reloads_total', { result: 'success' })).toBe(0);
    expect(valueOf(f, 'lvskeep_config_reloads_total', { result: 'failure' })).toBe(0);
    expect(valueOf(f, 'lvskeep_ipvs_drift_repairs_total')).toBe(0);
    expect(valueOf(f, 'lvskeep_ipvs_errors_total')).toBe(0);
    expect(samplesOf(f, 'lvskeep_event_loop_delay_seconds').map((s) => s.labels.stat).sort()).toEqual(['max', 'p50', 'p99']);
    for (const s of samplesOf(f, 'lvskeep_event_loop_delay_seconds')) expect(Number.isFinite(s.value) && s.value >= 0).toBe(true);
  });

  it('defaults build info to the package version', async () => {
    const f = parseExposition(await metrics().registry.metrics());
    expect(valueOf(f, 'lvskeep_build_info', { version: VERSION })).toBe(1);
  });

  it('includes Node process metrics with the lvskeep_ prefix unless turned off', async () => {
    const on = parseExposition(await metrics().registry.metrics());
    expect(on.get('lvskeep_process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(on.get('lvskeep_nodejs_heap_size_used_bytes')?.type).toBe('gauge');
    const off = parseExposition(await metrics({ defaultMetrics: false }).registry.metrics());
    expect(off.has('lvskeep_process_cpu_user_seconds_total')).toBe(false);
    expect(off.has('lvskeep_vrrp_state')).toBe(true);
  });

  it('uses a registry of its own: two instances do not share or collide', async () => {
    const a = metrics({ defaultMetrics: false });
    const b = metrics({ defaultMetrics: false });
    a.ipvs.errors.inc(3);
    const fa = parseExposition(await a.registry.metrics());
    const fb = parseExposition(await b.registry.metrics());
    expect(valueOf(fa, 'lvskeep_ipvs_errors_total')).toBe(3);
    expect(valueOf(fb, 'lvskeep_ipvs_errors_total')).toBe(0);
  });

  it('reports a blocked event loop in the delay gauge, then resets it for the next scrape', async () => {
    const m = metrics({ defaultMetrics: false, eventLoopResolutionMs: 1 });
    await m.registry.metrics(); // start a fresh window
    // Let the monitor sample once, then block the loop for ~150 ms.
    await new Promise((r) => setTimeout(r, 20));
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // busy wait: this is the stall being measured
    }
    await new Promise((r) => setTimeout(r, 20));
    const blocked = parseExposition(await m.registry.metrics());
    expect(valueOf(blocked, 'lvskeep_event_loop_delay_seconds', { stat: 'max' })).toBeGreaterThan(0.1);
    await new Promise((r) => setTimeout(r, 20));
    const calm = parseExposition(await m.registry.metrics());
    expect(valueOf(calm, 'lvskeep_event_loop_delay_seconds', { stat: 'max' })).toBeLessThan(0.1);
  });
});
