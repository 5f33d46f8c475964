import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../../src/health/monitor.js';
import type { HealthTransition } from '../../../src/health/state.js';
import type { CheckSpec, CommonCheckSpec } from '../../../src/health/types.js';
import { closedPort, startHttp, startTcp, type RunningHttp, type Seen } from './fixtures.js';

// Generous timeout and a retry: the servers share this process and the CPU with the checks (and CI with others).
const common: CommonCheckSpec = { intervalMs: 300, timeoutMs: 3000, rise: 1, fall: 1, retries: 1, retryDelayMs: 50, assume: 'down', jitterPercent: 10 };

function resources(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

describe('health monitor on real sockets', () => {
  let http: RunningHttp;
  let tcp: RunningHttp;
  const seen: Seen = { connections: 0 };
  beforeAll(async () => {
    http = await startHttp(seen);
    tcp = await startTcp();
  });
  afterAll(async () => {
    await http.close();
    await tcp.close();
  });

  it('runs a hundred and fifty checks, reports transitions, and stop() leaves no timers or sockets', async () => {
    const timersBefore = resources('Timeout');
    const socketsBefore = resources('TCPSocketWrap');
    const dead = await closedPort();
    const transitions = new Map<string, HealthTransition[]>();
    const m = new HealthMonitor({
      maxConcurrent: 64,
      onTransition: (id, t) => transitions.set(id, [...(transitions.get(id) ?? []), t]),
    });
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      const kind = i % 3;
      const spec: CheckSpec =
        kind === 0
          ? { ...common, type: 'http', method: 'GET', path: '/ok', expect: { status: [] }, headers: {} }
          : { ...common, type: 'tcp' };
      const port = kind === 0 ? http.port : kind === 1 ? tcp.port : dead;
      const id = `rs${i}`;
      ids.push(id);
      m.add({ id, spec, target: { address: '127.0.0.1', port, virtualServer: 'tcp 203.0.113.1:80' } });
    }
    m.start();
    // Run until every check has settled on its expected state (bounded), then a little longer under load.
    const settled = (): boolean => ids.every((id, i) => m.state(id)?.status === (i % 3 === 2 ? 'down' : 'up') && m.state(id)?.assumed === false);
    for (let waited = 0; waited < 15_000 && !settled(); waited += 100) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 600));
    await m.stop();
    for (const [i, id] of ids.entries()) {
      const want = i % 3 === 2 ? 'down' : 'up';
      expect(m.state(id)?.status, `${id}: ${m.state(id)?.lastReason ?? ''}`).toBe(want);
      expect(m.state(id)?.assumed, id).toBe(false);
      if (want === 'up') expect(transitions.get(id)?.[0], id).toMatchObject({ from: 'down', to: 'up' });
      else expect(m.state(id)?.lastReason).toBe('connection refused (2 attempts)');
    }
    // The server side learns of the last closes a moment later; poll briefly.
    for (let i = 0; i < 40 && http.open() + tcp.open() > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(http.open(), 'http server connections').toBe(0);
    expect(tcp.open(), 'tcp server connections').toBe(0);
    // Handles of destroyed sockets are released a turn or two later; allow them a moment (bounded).
    for (let i = 0; i < 40 && (resources('TCPSocketWrap') > socketsBefore || resources('Timeout') > timersBefore); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const left = process.getActiveResourcesInfo().join(', ');
    expect(resources('TCPSocketWrap'), `sockets left: ${left}`).toBeLessThanOrEqual(socketsBefore);
    expect(resources('Timeout'), `timers left: ${left}`).toBeLessThanOrEqual(timersBefore);
  });
});
