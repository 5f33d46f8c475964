import { describe, expect, it } from 'vitest';

import { ipipDecision } from '../../net/realserver/helpers.js';

describe('ipipDecision (whether the TUN net test runs, skips or fails)', () => {
  it('runs when the probe worked', () => {
    expect(ipipDecision(true, '', undefined, true)).toEqual({ run: true });
  });

  it('skips even under CI when the kernel is built without CONFIG_NET_IPIP, saying so', () => {
    const d = ipipDecision(false, 'Error: Unknown device type.', 'CONFIG_NET=y\n# CONFIG_NET_IPIP is not set\n', true);
    expect(d).toMatchObject({ run: false, fail: false });
    expect(d.run === false && d.reason).toMatch(/CONFIG_NET_IPIP is not set/);
  });

  it('fails under CI for any other cause, and only skips outside CI', () => {
    expect(ipipDecision(false, 'modprobe: FATAL', 'CONFIG_NET_IPIP=m\n', true)).toMatchObject({ run: false, fail: true });
    expect(ipipDecision(false, 'modprobe: FATAL', undefined, true)).toMatchObject({ run: false, fail: true });
    expect(ipipDecision(false, 'modprobe: FATAL', undefined, false)).toMatchObject({ run: false, fail: false, reason: expect.stringMatching(/modprobe: FATAL/) });
  });
});
