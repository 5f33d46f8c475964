import { describe, expect, it } from 'vitest';
import { watchInterfaces } from '../../../src/vrrp/runtime/link-watch.js';
import { readLinkNotice, RTM_DELLINK, RTM_NEWLINK } from '../../../src/vrrp/runtime/link-notice.js';
import { FakeLinkEvents, flush, ManualTimers } from './fakes.js';

describe('readLinkNotice', () => {
  const link = (attrs: { ifname?: string; operstate?: number }, flags: { up?: true; lowerUp?: true } = {}) => ({ attrs, data: { flags } });

  it('maps IF_OPER_* to the sysfs words', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 9].map((n) => readLinkNotice(RTM_NEWLINK, link({ ifname: 'eth0', operstate: n }))?.operstate)).toEqual([
      'unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up', 'operstate 9',
    ]);
  });

  it('a deleted link is absent; without IFLA_OPERSTATE, up with carrier is up', () => {
    expect(readLinkNotice(RTM_DELLINK, link({ ifname: 'eth0', operstate: 6 }))).toEqual({ ifname: 'eth0', operstate: 'absent' });
    expect(readLinkNotice(RTM_NEWLINK, link({ ifname: 'eth0' }, { up: true, lowerUp: true }))?.operstate).toBe('up');
    expect(readLinkNotice(RTM_NEWLINK, link({ ifname: 'eth0' }, { up: true }))?.operstate).toBe('down');
  });

  it('ignores messages without a name and other message types', () => {
    expect(readLinkNotice(RTM_NEWLINK, link({ operstate: 6 }))).toBeUndefined();
    expect(readLinkNotice(20, link({ ifname: 'eth0', operstate: 6 }))).toBeUndefined();
  });
});

describe('watchInterfaces with link notifications', () => {
  const setup = () => {
    const timers = new ManualTimers();
    const events = new FakeLinkEvents();
    const states = new Map([['eth0', 'up'], ['eth1', 'up']]);
    let reads = 0;
    const seen: string[] = [];
    const w = watchInterfaces(['eth0', 'eth1'], (n, up, detail) => seen.push(`${n}:${up}:${detail}`), {
      events,
      timers,
      read: (n) => {
        reads++;
        return Promise.resolve(states.get(n));
      },
    });
    return { timers, events, states, seen, w, reads: () => reads };
  };

  it('reports an event at once, without waiting for a poll', async () => {
    const t = setup();
    await flush();
    expect(t.seen).toEqual(['eth0:true:interface eth0 operstate up (poll)', 'eth1:true:interface eth1 operstate up (poll)']);
    t.states.set('eth0', 'down');
    t.events.notify('eth0', 'lowerlayerdown');
    t.events.notify('lo9', 'down'); // not watched
    expect(t.seen.slice(2)).toEqual(['eth0:false:interface eth0 operstate lowerlayerdown (rtnetlink)']);
    t.w.stop();
    expect(t.events.subscribers()).toBe(0);
    expect(t.timers.count()).toBe(0);
  });

  it('polls only as a safety net (5 s), and that poll still catches a missed change', async () => {
    const t = setup();
    await flush();
    expect(t.reads()).toBe(2);
    t.states.set('eth1', 'down'); // no notification: as if it was lost
    await t.timers.advance(4900);
    expect(t.reads()).toBe(2);
    await t.timers.advance(200);
    expect(t.reads()).toBe(4);
    expect(t.seen.at(-1)).toBe('eth1:false:interface eth1 operstate down (poll)');
    t.w.stop();
  });

  it('re-reads at once when notifications were lost', async () => {
    const t = setup();
    await flush();
    t.states.set('eth0', 'down');
    t.events.lose();
    await flush();
    expect(t.seen.at(-1)).toBe('eth0:false:interface eth0 operstate down (poll)');
    t.w.stop();
  });

  it('a poll that read /sys before a newer event does not undo it', async () => {
    const timers = new ManualTimers();
    const events = new FakeLinkEvents();
    let release: ((s: string) => void) | undefined;
    const seen: string[] = [];
    const w = watchInterfaces(['eth0'], (n, up) => seen.push(`${n}:${up}`), {
      events,
      timers,
      // The first read hangs until released, with the value it read before the event.
      read: () => new Promise((resolve) => (release = resolve)),
    });
    events.notify('eth0', 'down');
    release?.('up');
    await flush();
    expect(seen).toEqual(['eth0:false']);
    w.stop();
  });

  it('without events, polls every 200 ms by default', async () => {
    const timers = new ManualTimers();
    let reads = 0;
    const read = (): Promise<string> => {
      reads++;
      return Promise.resolve('up');
    };
    const w = watchInterfaces(['eth0'], () => undefined, { timers, read });
    await timers.advance(1000);
    expect(reads).toBe(6);
    w.stop();
  });
});
