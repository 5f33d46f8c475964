import { describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../../src/health/monitor.js';
import type { HealthTransition } from '../../../src/health/state.js';
import type { CheckSpec, Prober, ProbeResult } from '../../../src/health/types.js';
import { FakeTimers, seeded } from './fake-timers.js';

const spec: CheckSpec = { type: 'tcp', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3, retries: 1, retryDelayMs: 200, assume: 'up', jitterPercent: 0 };
const target = { address: '198.51.100.11', port: 80, virtualServer: 'tcp 203.0.113.1:80' };

describe('health monitor', () => {
  it('turns probe results into rise/fall transitions, retrying on the fake clock', async () => {
    const timers = new FakeTimers();
    let healthy = true;
    const attempts: number[] = [];
    let closed = 0;
    const prober: Prober = {
      probe: async (): Promise<ProbeResult> => {
        attempts.push(timers.now());
        return healthy ? { ok: true, latencyMs: 1, reason: 'connected' } : { ok: false, latencyMs: 1, reason: 'connection refused' };
      },
      close: async () => {
        closed++;
      },
    };
    const transitions: HealthTransition[] = [];
    const m = new HealthMonitor({ timers, random: seeded(1), proberFactory: () => prober, onTransition: (_id, t) => transitions.push(t) });
    m.add({ id: 'rs1', spec, target });
    expect(m.state('rs1')).toMatchObject({ status: 'up', assumed: true });
    m.start();
    await timers.advance(2000);
    const firstRun = attempts[0] ?? 0;
    healthy = false;
    attempts.length = 0;
    await timers.advance(3000); // three failed checks, each with one retry 200 ms later
    expect(attempts.slice(0, 2).map((t) => t - attempts[0]!)).toEqual([0, 200]);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ from: 'up', to: 'down', reason: 'connection refused (2 attempts)' });
    expect(transitions[0]!.at - firstRun).toBe(4200); // third failing check starts at +4000, its retry at +4200
    healthy = true;
    await timers.advance(2000);
    expect(transitions.map((t) => t.to)).toEqual(['down', 'up']);
    await m.stop();
    expect(closed).toBe(1);
    expect(timers.size).toBe(0);
  });
});
