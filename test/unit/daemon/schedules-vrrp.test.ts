// Schedules and VRRP tracking through the daemon wiring: a maintenance window takes a real server to weight 0
// and gives it back when it ends; pool changes reach the VRRP manager under the names its config tracks.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { buildDaemon } from '../../../src/daemon/build.js';
import { trackedChecks } from '../../../src/daemon/vrrp-tracking.js';
import type { CheckTarget, Prober } from '../../../src/health/types.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { silentLogger } from '../../../src/log/logger.js';
import { nodeCronDriver, type CronDriver } from '../../../src/schedules/cron-driver.js';
import type { VrrpManager } from '../../../src/vrrp/runtime/manager.js';
import { FakeTimers } from '../health/fake-timers.js';

function config(yaml: string): LvskeepConfig {
  const r = parseConfigText(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

const YAML = `
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
          - { virtual_server: web, real_server: 198.51.100.12, weight: -10 }
virtual_servers:
  - name: web
    address: 203.0.113.1:80
    check: { type: tcp, interval: 1s, timeout: 200ms, rise: 1, fall: 1, jitter: 0, assume: up }
    real_servers:
      - address: 198.51.100.11:80
        weight: 2
      - address: 198.51.100.12:80
        weight: 3
schedules:
  - { name: patch-12, cron: "0 3 * * 0", action: maintenance, duration: 30m, targets: [{ virtual_server: web, real_server: 198.51.100.12 }] }
`;

class ManualCron implements CronDriver {
  readonly ticks = new Map<string, () => void>();
  validate = nodeCronDriver.validate;
  start(name: string, _expr: string, _tz: string | undefined, onTick: () => void) {
    this.ticks.set(name, onTick);
    return { stop: () => void this.ticks.delete(name), nextRun: () => null };
  }
}

const healthy = new Map<string, boolean>();
const probers = (_spec: unknown, t: CheckTarget): Prober => ({
  probe: () => Promise.resolve({ ok: healthy.get(t.address) ?? true, latencyMs: 1, reason: healthy.get(t.address) === false ? 'connection refused' : 'connected' }),
  close: () => Promise.resolve(),
});

async function weightOf(backend: MemoryBackend, address: string): Promise<number | undefined> {
  return (await backend.dump())[0]?.dests.find((d) => d.address === address)?.weight;
}

describe('schedules and VRRP tracking in the daemon', () => {
  it('resolves tracked checks to pool ids and keeps the names the config wrote', () => {
    expect(trackedChecks(config(YAML))).toEqual([
      { virtualServer: 'web', vs: 'tcp 203.0.113.1:80' },
      { virtualServer: 'web', realServer: '198.51.100.12', vs: 'tcp 203.0.113.1:80', rs: '198.51.100.12:80' },
    ]);
  });

  it('a maintenance window sets weight 0 and ends by itself; VRRP hears about tracked servers and quorum', async () => {
    const timers = new FakeTimers();
    const backend = new MemoryBackend();
    const cron = new ManualCron();
    const calls: string[] = [];
    const vrrp = {
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      reload: () => Promise.resolve({ kept: [], started: [], stopped: [] }),
      status: () => [],
      instance: () => undefined,
      stepDown: () => undefined,
      setCheckState: (vs: string, rs: string | undefined, up: boolean) => void calls.push(`${vs}${rs ? ` ${rs}` : ''} ${up ? 'up' : 'down'}`),
    } satisfies VrrpManager;
    healthy.clear();
    const daemon = buildDaemon(config(YAML), { logger: silentLogger(), backend, timers, proberFactory: probers, random: () => 0, cronDriver: cron, vrrpFactory: () => vrrp, alertGraceMs: 0 });
    await daemon.start();
    await daemon.settle();
    expect(calls).toEqual(['web up', 'web 198.51.100.12 up']);
    expect(await weightOf(backend, '198.51.100.12')).toBe(3);

    cron.ticks.get('patch-12')?.();
    await timers.advance(10);
    expect(await weightOf(backend, '198.51.100.12')).toBe(0);
    expect(calls.at(-1)).toBe('web 198.51.100.12 down');
    await timers.advance(30 * 60_000);
    expect(await weightOf(backend, '198.51.100.12')).toBe(3);
    expect(calls.at(-1)).toBe('web 198.51.100.12 up');

    calls.length = 0;
    healthy.set('198.51.100.11', false);
    healthy.set('198.51.100.12', false);
    await timers.advance(1_000);
    expect(calls).toContain('web down'); // quorum lost: no healthy weight left
    await daemon.stop('test');
  });
});
