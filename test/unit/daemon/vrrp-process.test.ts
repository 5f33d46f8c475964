// The daemon's default VRRP is the supervised child process: with a fake child, the daemon starts it with the
// vrrp section, reports tracked pool health to it, re-emits its events on the daemon bus, and stops it the
// planned way. Plus the metric the child's timer lateness samples land in.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { buildDaemon } from '../../../src/daemon/build.js';
import { createEvent, type LvsEvent } from '../../../src/events/types.js';
import type { CheckTarget, Prober } from '../../../src/health/types.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { silentLogger } from '../../../src/log/logger.js';
import { createMetrics, recordTimerLateness } from '../../../src/metrics/index.js';
import { FakeTimers } from '../health/fake-timers.js';
import { spawner, status } from '../vrrp-process/fakes.js';

const YAML = `
backend: { vip: iproute2 }
vrrp:
  instances:
    - name: public
      interface: eth0
      virtual_router_id: 51
      priority: 150
      virtual_ips: [203.0.113.100/24]
      track:
        checks:
          - { virtual_server: web, weight: -60 }
virtual_servers:
  - name: web
    address: 203.0.113.1:80
    check: { type: tcp, interval: 1s, timeout: 200ms, rise: 1, fall: 1, jitter: 0, assume: up }
    real_servers:
      - address: 198.51.100.11:80
`;

function config(yaml: string): LvskeepConfig {
  const r = parseConfigText(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

const prober = (_spec: unknown, _t: CheckTarget): Prober => ({ probe: () => Promise.resolve({ ok: true, latencyMs: 1, reason: 'connected' }), close: () => Promise.resolve() });

describe('the daemon with its VRRP child process', () => {
  it('starts the child with the vrrp section, feeds it tracked health, forwards its events, and stops it', async () => {
    const kids = spawner();
    const cfg = config(YAML);
    const daemon = buildDaemon(cfg, { logger: silentLogger(), backend: new MemoryBackend(), timers: new FakeTimers(), proberFactory: prober, random: () => 0, spawnVrrpChild: kids.spawn, alertGraceMs: 0 });
    const seen: LvsEvent[] = [];
    daemon.bus.on((e) => void seen.push(e));
    await daemon.start();
    const child = kids.last();
    expect(child.of('start')[0]).toMatchObject({ config: cfg.vrrp, settings: { vipBackend: 'iproute2', logFormat: 'json' } });
    expect(child.of('check-state').map((m) => [m.virtualServer, m.realServer, m.up])).toEqual([['web', undefined, true]]);

    const event = createEvent({ type: 'vrrp.state', instance: 'public', from: 'BACKUP', to: 'MASTER', reason: 'Master_Down_Interval expired', priority: 150 }, 1);
    child.push({ t: 'event', event });
    child.push({ t: 'status', status: [status('public', 'Master')], lateness: [], latenessDropped: 0 });
    expect(seen).toContainEqual(event);

    await daemon.stop('test');
    expect(child.of('stop')).toHaveLength(1);
    expect(kids.children).toHaveLength(1);
  });

  it('records the child timer lateness samples in lvskeep_vrrp_timer_lateness_seconds', async () => {
    const m = createMetrics({ defaultMetrics: false });
    recordTimerLateness(m, [2, 40, Number.NaN, -1]);
    const text = await m.registry.metrics();
    m.close();
    expect(text).toMatch(/^lvskeep_vrrp_timer_lateness_seconds_count 2$/m);
    expect(text).toMatch(/^lvskeep_vrrp_timer_lateness_seconds_bucket\{le="0.005"\} 1$/m);
  });
});
