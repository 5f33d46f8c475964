import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/bus.js';
import { createEvent, type EventBody, type LvsEvent } from '../../../src/events/types.js';
import { applyEvent, subscribeMetrics } from '../../../src/metrics/from-events.js';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.js';
import { parseExposition, samplesOf, valueOf } from './exposition.js';

const VS = 'tcp 203.0.113.1:80';
const RS = '198.51.100.11:80';
let m: Metrics;
afterEach(() => m?.close());

const ev = (body: EventBody): LvsEvent => createEvent(body, 1_700_000_000_000);

async function scrape(metrics: Metrics) {
  return parseExposition(await metrics.registry.metrics());
}

describe('applyEvent', () => {
  it('counts VRRP transitions by instance, from and to, and marks exactly the current state', async () => {
    m = createMetrics({ defaultMetrics: false });
    applyEvent(m, ev({ type: 'vrrp.state', instance: 'VI_1', from: 'INIT', to: 'BACKUP', reason: 'start', priority: 100 }));
    applyEvent(m, ev({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down', priority: 100 }));
    applyEvent(m, ev({ type: 'vrrp.state', instance: 'VI_1', from: 'MASTER', to: 'BACKUP', reason: 'higher priority', priority: 90 }));
    applyEvent(m, ev({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down', priority: 90 }));
    const f = await scrape(m);
    expect(valueOf(f, 'lvskeep_vrrp_transitions_total', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER' })).toBe(2);
    expect(valueOf(f, 'lvskeep_vrrp_transitions_total', { instance: 'VI_1', from: 'MASTER', to: 'BACKUP' })).toBe(1);
    expect(valueOf(f, 'lvskeep_vrrp_transitions_total', { instance: 'VI_1', from: 'INIT', to: 'BACKUP' })).toBe(1);
    const states = Object.fromEntries(samplesOf(f, 'lvskeep_vrrp_state').map((s) => [s.labels.state, s.value]));
    expect(states).toEqual({ INIT: 0, BACKUP: 0, MASTER: 1, FAULT: 0 });
    expect(valueOf(f, 'lvskeep_vrrp_effective_priority', { instance: 'VI_1' })).toBe(90);
  });

  it('sets real-server health and state from rs.* events', async () => {
    m = createMetrics({ defaultMetrics: false });
    const ref = { virtualServer: VS, realServer: RS };
    const stateOf = async () => {
      const f = await scrape(m);
      const on = samplesOf(f, 'lvskeep_real_server_state').filter((s) => s.value === 1);
      expect(on).toHaveLength(1); // one current state at a time
      return { state: on[0]?.labels.state, up: valueOf(f, 'lvskeep_real_server_up', { virtual_server: VS, real_server: RS }) };
    };
    applyEvent(m, ev({ type: 'rs.down', ...ref, reason: 'connection refused' }));
    expect(await stateOf()).toEqual({ state: 'down', up: 0 });
    applyEvent(m, ev({ type: 'rs.up', ...ref, reason: 'HTTP 200' }));
    expect(await stateOf()).toEqual({ state: 'up', up: 1 });
    applyEvent(m, ev({ type: 'rs.flapping', ...ref, reason: '5 changes' }));
    expect(await stateOf()).toEqual({ state: 'flapping', up: 0 });
    applyEvent(m, ev({ type: 'rs.maintenance', ...ref, on: true, reason: 'operator' }));
    expect(await stateOf()).toEqual({ state: 'maintenance', up: 0 });
    applyEvent(m, ev({ type: 'rs.maintenance', ...ref, on: false, reason: 'operator' }));
    expect((await stateOf()).state).toBe('unknown');
    applyEvent(m, ev({ type: 'rs.drained', ...ref, reason: 'no connections left' }));
    expect((await stateOf()).state).toBe('drained');
  });

  it('counts drift repairs, IPVS errors and reloads by result', async () => {
    m = createMetrics({ defaultMetrics: false });
    applyEvent(m, ev({ type: 'ipvs.drift_repaired', changes: 3, detail: 'x' }));
    applyEvent(m, ev({ type: 'ipvs.drift_repaired', changes: 1, detail: 'y' }));
    applyEvent(m, ev({ type: 'ipvs.error', operation: 'NEW_DEST', object: RS, error: 'EEXIST' }));
    applyEvent(m, ev({ type: 'daemon.reloaded', source: 'SIGHUP' }));
    applyEvent(m, ev({ type: 'daemon.reload_failed', source: 'SIGHUP', error: 'bad' }));
    applyEvent(m, ev({ type: 'daemon.reload_failed', source: 'SIGHUP', error: 'bad again' }));
    const f = await scrape(m);
    expect(valueOf(f, 'lvskeep_ipvs_drift_repairs_total')).toBe(2);
    expect(valueOf(f, 'lvskeep_ipvs_errors_total')).toBe(1);
    expect(valueOf(f, 'lvskeep_config_reloads_total', { result: 'success' })).toBe(1);
    expect(valueOf(f, 'lvskeep_config_reloads_total', { result: 'failure' })).toBe(2);
  });

  it('takes every event type without throwing, and ignores a state it does not know', async () => {
    m = createMetrics({ defaultMetrics: false });
    const bodies: EventBody[] = [
      { type: 'vrrp.split_brain', instance: 'VI_1', peer: '192.0.2.9', cleared: false },
      { type: 'quorum.lost', virtualServer: VS, reason: 'x' },
      { type: 'sorry.on', virtualServer: VS, sorryServer: RS },
      { type: 'panic.entered', virtualServer: VS, reason: 'x' },
      { type: 'vip.error', instance: 'VI_1', address: '203.0.113.1', interface: 'eth0', error: 'EPERM' },
      { type: 'daemon.started', version: '0.1.0' },
      { type: 'daemon.stopped', reason: 'SIGTERM' },
      { type: 'alert.delivery_failing', sink: 'pd', error: 'x', dropped: 1 },
      { type: 'alert.test', note: 'x' },
    ];
    for (const b of bodies) expect(() => applyEvent(m, ev(b))).not.toThrow();
    // A producer bug must not create a series with a made-up state.
    const bogus = ev({ type: 'vrrp.state', instance: 'VI_2', from: 'BACKUP', to: 'MASTER', reason: 'x', priority: 1 });
    applyEvent(m, { ...bogus, to: 'BOGUS' } as unknown as LvsEvent);
    applyEvent(m, { ...bogus, from: 'BOGUS' } as unknown as LvsEvent);
    const f = await scrape(m);
    expect(samplesOf(f, 'lvskeep_vrrp_transitions_total').filter((s) => s.labels.instance === 'VI_2')).toEqual([]);
  });
});

describe('subscribeMetrics', () => {
  it('follows the bus until unsubscribed', async () => {
    m = createMetrics({ defaultMetrics: false });
    const bus = new EventBus<LvsEvent>();
    const off = subscribeMetrics(bus, m);
    bus.emit(ev({ type: 'ipvs.error', operation: 'DEL_DEST', object: RS, error: 'ENOENT' }));
    off();
    bus.emit(ev({ type: 'ipvs.error', operation: 'DEL_DEST', object: RS, error: 'ENOENT' }));
    expect(valueOf(await scrape(m), 'lvskeep_ipvs_errors_total')).toBe(1);
    expect(bus.listenerCount).toBe(0);
  });
});
