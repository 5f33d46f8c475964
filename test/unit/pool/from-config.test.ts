import { describe, expect, it } from 'vitest';
import { initialHealthOf, poolConfigOf } from '../../../src/pool/from-config.js';
import { virtualServers, YAML } from '../health/config-fixture.js';

describe('pool config from configuration', () => {
  const [web, , , scripted] = virtualServers(YAML);
  it('maps service policy and real server weights', () => {
    expect(poolConfigOf(web!)).toEqual({
      virtualServer: 'web',
      realServers: [{ id: '198.51.100.11:443', weight: 3 }, { id: '198.51.100.12:8443', weight: 1 }],
      onFailure: 'remove',
      quorum: 2,
      quorumHysteresis: 1,
      sorryServer: { id: '198.51.100.99:443', weight: 1 },
      panicThresholdPercent: 30,
      slowStartMs: 20_000,
      drainTimeoutMs: 300_000,
      flap: { maxChanges: 4, windowMs: 60_000, penaltyMs: 120_000 },
    });
  });
  it('a real server without a check starts (and stays) up; flap damping off by default', () => {
    expect(initialHealthOf(scripted!)).toEqual({ '198.51.100.31:25': 'down', '198.51.100.32:25': 'up' });
    expect(poolConfigOf(scripted!).flap).toBeUndefined();
  });
});
