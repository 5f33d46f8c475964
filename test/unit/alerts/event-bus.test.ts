import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/bus.js';

describe('EventBus', () => {
  it('delivers in order to every listener even when one throws', () => {
    const errors: unknown[] = [];
    const bus = new EventBus<number>({ onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    bus.on((n) => void seen.push(`a${n}`));
    bus.on(() => {
      throw new Error('boom');
    });
    bus.on((n) => void seen.push(`c${n}`));
    expect(() => bus.emit(1)).not.toThrow();
    bus.emit(2);
    expect(seen).toEqual(['a1', 'c1', 'a2', 'c2']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'boom']);
  });

  it('reports a rejected async listener instead of leaving an unhandled rejection', async () => {
    const errors: unknown[] = [];
    const bus = new EventBus<number>({ onListenerError: (e) => errors.push(e) });
    bus.on(async () => {
      await Promise.resolve();
      throw new Error('later');
    });
    bus.emit(1);
    await new Promise((r) => setImmediate(r));
    expect((errors[0] as Error).message).toBe('later');
  });

  it('does not wait for async listeners', () => {
    const bus = new EventBus<number>();
    let finished = false;
    bus.on(() => new Promise<void>((r) => setTimeout(() => { finished = true; r(); }, 50)));
    bus.emit(1);
    expect(finished).toBe(false);
  });

  it('survives a throwing error reporter, and unsubscribes', () => {
    const bus = new EventBus<number>({ onListenerError: () => { throw new Error('reporter'); } });
    const seen: number[] = [];
    const off = bus.on((n) => { seen.push(n); throw new Error('x'); });
    expect(() => bus.emit(1)).not.toThrow();
    off();
    bus.emit(2);
    expect(seen).toEqual([1]);
    expect(bus.listenerCount).toBe(0);
  });
});
