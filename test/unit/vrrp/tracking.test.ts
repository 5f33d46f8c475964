import { describe, expect, it } from 'vitest';
import { describePriority, effectivePriority, trackingEvents, type TrackedObject } from '../../../src/vrrp/tracking.js';

const iface = (name: string, weight: number, up: boolean, reverse?: boolean): TrackedObject => ({ kind: 'interface', name, weight, up, reverse });
const pool = (name: string, weight: number, up: boolean): TrackedObject => ({ kind: 'pool', name, weight, up });
const script = (name: string, weight: number, up: boolean, reverse?: boolean): TrackedObject => ({ kind: 'script', name, weight, up, reverse });

describe('effectivePriority (keepalived semantics)', () => {
  it('positive weight adds while up, nothing while down', () => {
    expect(effectivePriority(100, [pool('web', 20, true)]).priority).toBe(120);
    expect(effectivePriority(100, [pool('web', 20, false)]).priority).toBe(100);
  });

  it('negative weight subtracts while down, nothing while up', () => {
    expect(effectivePriority(100, [iface('eth1', -30, false)]).priority).toBe(70);
    expect(effectivePriority(100, [iface('eth1', -30, true)]).priority).toBe(100);
  });

  it('contributions add up and are listed', () => {
    const r = effectivePriority(100, [pool('web', 20, true), iface('eth1', -30, false), script('chk', 5, true)]);
    expect(r.priority).toBe(95);
    expect(r.adjustments).toEqual([
      { object: 'pool web', delta: 20 },
      { object: 'interface eth1', delta: -30 },
      { object: 'script chk', delta: 5 },
    ]);
    expect(describePriority(100, r)).toBe('base 100 pool web +20, interface eth1 -30, script chk +5 = 95');
  });

  it('weight 0 puts the instance in fault while the object is down', () => {
    const r = effectivePriority(100, [iface('eth1', 0, false), pool('web', 0, true)]);
    expect(r.fault).toBe(true);
    expect(r.faultReasons).toEqual(['interface eth1 down (weight 0)']);
    expect(effectivePriority(100, [iface('eth1', 0, true)]).fault).toBe(false);
  });

  it('reverse flips the sense: +w subtracts while up, -w adds while down, weight 0 faults while up', () => {
    expect(effectivePriority(100, [script('maint', 10, true, true)]).priority).toBe(90);
    expect(effectivePriority(100, [script('maint', 10, false, true)]).priority).toBe(100);
    expect(effectivePriority(100, [script('maint', -10, false, true)]).priority).toBe(110);
    expect(effectivePriority(100, [script('maint', 0, true, true)]).faultReasons).toEqual(['script maint up (weight 0, reverse)']);
  });

  it('clamps to 1..254: tracking can neither make an owner nor send priority 0', () => {
    expect(effectivePriority(200, [pool('a', 100, true)]).priority).toBe(254);
    expect(effectivePriority(10, [pool('a', -100, false)]).priority).toBe(1);
  });

  it('priority 255 (address owner) is never changed; weighted objects are reported and ignored, weight 0 still faults', () => {
    const r = effectivePriority(255, [pool('a', -50, false), iface('eth1', 0, false)]);
    expect(r.priority).toBe(255);
    expect(r.warnings).toEqual(['pool a: weight -50 ignored, priority 255 (address owner) is never changed by tracking']);
    expect(r.fault).toBe(true);
  });

  it('weights outside -253..253 are reported and ignored', () => {
    const r = effectivePriority(100, [pool('a', 300, true), pool('b', 1.5, true)]);
    expect(r.priority).toBe(100);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/pool a: weight 300 ignored/);
  });
});

describe('trackingEvents', () => {
  it('emits priority-changed, fault and fault-cleared only on change', () => {
    const up = effectivePriority(100, [pool('web', 20, true)]);
    expect(trackingEvents(100, undefined, up)).toEqual([{ type: 'priority-changed', priority: 120, reason: 'base 100 pool web +20 = 120' }]);
    expect(trackingEvents(100, up, up)).toEqual([]);
    const down = effectivePriority(100, [pool('web', 20, false), iface('eth1', 0, false)]);
    expect(trackingEvents(100, up, down)).toEqual([
      { type: 'priority-changed', priority: 100, reason: 'base 100, no adjustments' },
      { type: 'fault', reason: 'interface eth1 down (weight 0)' },
    ]);
    const back = effectivePriority(100, [pool('web', 20, false), iface('eth1', 0, true)]);
    expect(trackingEvents(100, down, back)).toEqual([{ type: 'fault-cleared', reason: 'tracked objects recovered (interface eth1 down (weight 0))' }]);
  });
});
