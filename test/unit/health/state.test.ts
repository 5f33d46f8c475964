import { describe, expect, it } from 'vitest';
import { applyResult, initialHealthState, type HealthState, type HealthTransition } from '../../../src/health/state.js';

const ok = { ok: true, latencyMs: 1, reason: 'HTTP 200' };
const bad = { ok: false, latencyMs: 1, reason: 'HTTP 503' };

/** Feed a sequence of results one per second; return the status after each and the transitions. */
function run(assume: 'up' | 'down', rise: number, fall: number, seq: string): { statuses: string; transitions: HealthTransition[]; state: HealthState } {
  let state = initialHealthState(assume, 0);
  const statuses: string[] = [];
  const transitions: HealthTransition[] = [];
  [...seq].forEach((c, i) => {
    const step = applyResult(state, c === '+' ? ok : bad, { rise, fall }, (i + 1) * 1000);
    state = step.state;
    if (step.transition) transitions.push(step.transition);
    statuses.push(state.status === 'up' ? 'U' : 'D');
  });
  return { statuses: statuses.join(''), transitions, state };
}

describe('rise/fall', () => {
  it.each([
    // assume, rise, fall, results, statuses after each result
    ['up', 2, 3, '---', 'UUD'],
    ['up', 2, 3, '--+--', 'UUUUU'],
    ['up', 2, 1, '-', 'D'],
    ['down', 2, 3, '++', 'DU'],
    ['down', 2, 3, '+-+', 'DDD'],
    ['down', 1, 1, '+-+-', 'UDUD'],
    ['down', 3, 2, '+++--+', 'DDUUDD'],
    ['up', 0, 0, '-+', 'DU'], // thresholds below 1 act as 1
  ] as const)('assume %s rise %i fall %i on %s gives %s', (assume, rise, fall, seq, want) => {
    expect(run(assume, rise, fall, seq).statuses).toBe(want);
  });

  it('reports each transition with reason, time in previous state and time', () => {
    const { transitions } = run('up', 1, 2, '--++');
    expect(transitions).toEqual([
      { from: 'up', to: 'down', reason: 'HTTP 503', durationMs: 2000, at: 2000 },
      { from: 'down', to: 'up', reason: 'HTTP 200', durationMs: 1000, at: 3000 },
    ]);
  });

  it('starts as an assumption and clears it on the first result', () => {
    const s = initialHealthState('down', 5);
    expect(s).toMatchObject({ status: 'down', assumed: true, since: 5 });
    expect(applyResult(s, bad, { rise: 1, fall: 1 }, 6).state.assumed).toBe(false);
  });

  it('keeps the last dynamic weight reported', () => {
    let s = initialHealthState('up', 0);
    s = applyResult(s, { ...ok, weight: 7 }, { rise: 1, fall: 1 }, 1).state;
    s = applyResult(s, ok, { rise: 1, fall: 1 }, 2).state;
    expect(s.weight).toBe(7);
  });
});
