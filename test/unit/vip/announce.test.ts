import { describe, expect, it } from 'vitest';
import {
  arpingAnnouncementSender,
  arpingArgv,
  burstOffsets,
  createAnnouncementSender,
  nativeAnnouncementSender,
  scheduleAnnouncements,
  validateAnnounceTiming,
  type AnnouncementSender,
} from '../../../src/vip/announce.js';
import { ManualClockTimers } from '../support/manual-timers.js';
import { buildGratuitousArp, buildUnsolicitedNeighborAdvert } from '../../../src/vip/frames.js';
import type { Vip } from '../../../src/vip/types.js';
import type { NativeAddon } from '../../../src/vrrp/transport/native.js';
import { netlinkErrno } from '../../../src/vip/netlink.js';


const V4: Vip = { address: '203.0.113.10', prefix: 24, dev: 'eth0' };
const V6: Vip = { address: '2001:db8::10', prefix: 64, dev: 'eth0' };

function recordingSender(clock: ManualClockTimers, fail: (vip: Vip) => boolean = () => false) {
  const log: { at: number; vip: string }[] = [];
  const sender: AnnouncementSender = {
    kind: 'native',
    sendOnce(vip) {
      log.push({ at: clock.now, vip: vip.address });
      return fail(vip) ? Promise.reject(new Error('boom')) : Promise.resolve();
    },
  };
  return { log, sender };
}

describe('announcement timing', () => {
  it('computes burst offsets', () => {
    expect(burstOffsets(500, 3, 1000)).toEqual([500, 1500, 2500]);
    expect(burstOffsets(0, 1, 1000)).toEqual([0]);
  });

  it.each([
    [{ delayMs: -1, repeat: 1, intervalMs: 0, refreshMs: 0 }, /delayMs/],
    [{ delayMs: 0, repeat: 0, intervalMs: 0, refreshMs: 0 }, /repeat/],
    [{ delayMs: 0, repeat: 101, intervalMs: 0, refreshMs: 0 }, /repeat/],
    [{ delayMs: 0, repeat: 1, intervalMs: 1.5, refreshMs: 0 }, /intervalMs/],
    [{ delayMs: 0, repeat: 1, intervalMs: 0, refreshMs: 5 }, /refreshMs/],
    [{ delayMs: 0, repeat: 1, intervalMs: 0, refreshMs: 1000, refreshRepeat: 0 }, /refreshRepeat/],
  ])('rejects %j', (t, pattern) => {
    expect(() => validateAnnounceTiming(t)).toThrow(pattern);
  });
});

describe('scheduleAnnouncements', () => {
  it('waits the delay, sends `repeat` times `intervalMs` apart for every VIP, then stops', async () => {
    const clock = new ManualClockTimers();
    const { log, sender } = recordingSender(clock);
    const run = scheduleAnnouncements([V4, V6], sender, { delayMs: 500, repeat: 3, intervalMs: 1000, refreshMs: 0 }, { timers: clock });
    let first = false;
    void run.firstBurst.then(() => (first = true));
    await clock.advance(499);
    expect(log).toEqual([]);
    await clock.advance(10_000);
    expect(log.map((l) => l.at)).toEqual([500, 500, 1500, 1500, 2500, 2500]);
    expect(new Set(log.map((l) => l.vip))).toEqual(new Set([V4.address, V6.address]));
    expect(first).toBe(true);
    expect(run.counts()).toEqual({ sent: 6, failed: 0 });
    expect(clock.count).toBe(0);
  });

  it('refreshes periodically with refreshRepeat announcements until stopped', async () => {
    const clock = new ManualClockTimers();
    const { log, sender } = recordingSender(clock);
    const run = scheduleAnnouncements([V4], sender, { delayMs: 0, repeat: 2, intervalMs: 100, refreshMs: 60_000, refreshRepeat: 1 }, { timers: clock });
    await clock.advance(130_000);
    expect(log.map((l) => l.at)).toEqual([0, 100, 60_100, 120_100]);
    run.stop();
    run.stop();
    await clock.advance(600_000);
    expect(log).toHaveLength(4);
    expect(clock.count).toBe(0);
  });

  it('counts failures, keeps going, and never overlaps a slow sender', async () => {
    const clock = new ManualClockTimers();
    let release: () => void = () => undefined;
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const sender: AnnouncementSender = {
      kind: 'arping',
      sendOnce() {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // The first call hangs until released; later ones fail.
        if (calls === 1) return new Promise<void>((r) => (release = () => (inFlight--, r())));
        inFlight--;
        return Promise.reject(new Error('arping exit 2'));
      },
    };
    const run = scheduleAnnouncements([V4], sender, { delayMs: 0, repeat: 3, intervalMs: 10, refreshMs: 0 }, { timers: clock });
    await clock.advance(1000);
    expect(calls).toBe(1); // the next tick waits for the slow one
    release();
    await clock.advance(1000);
    expect(calls).toBe(3);
    expect(maxInFlight).toBe(1);
    expect(run.counts()).toEqual({ sent: 1, failed: 2 });
  });

  it('resolves firstBurst at once for no VIPs and on stop before the delay', async () => {
    const clock = new ManualClockTimers();
    const { log, sender } = recordingSender(clock);
    await scheduleAnnouncements([], sender, { delayMs: 0, repeat: 1, intervalMs: 0, refreshMs: 0 }, { timers: clock }).firstBurst;
    const run = scheduleAnnouncements([V4], sender, { delayMs: 5000, repeat: 1, intervalMs: 0, refreshMs: 0 }, { timers: clock });
    run.stop();
    await run.firstBurst;
    await clock.advance(10_000);
    expect(log).toEqual([]);
  });
});

describe('announcement senders', () => {
  const MAC = Buffer.from('020000aabbcc', 'hex');
  function fakeAddon(hwType = 1) {
    const frames: { ifindex: number; frame: Buffer }[] = [];
    const addon = {
      abiVersion: 1,
      interfaceInfo: (ifname: string) => {
        if (ifname !== 'eth0') throw Object.assign(new Error(`if_nametoindex(${ifname}): No such device (ENODEV)`), { code: 'ENODEV' });
        return { index: 7, hwType, mac: MAC };
      },
      sendEthernetFrame: (ifindex: number, frame: Buffer) => {
        frames.push({ ifindex, frame });
        return frame.length;
      },
    } as unknown as NativeAddon; // only the two functions the sender uses
    return { frames, addon };
  }

  it('native: sends the exact ARP / NA frame on the interface index', async () => {
    const { frames, addon } = fakeAddon();
    const sender = nativeAnnouncementSender(addon);
    await sender.sendOnce(V4);
    await sender.sendOnce(V6);
    expect(frames).toEqual([
      { ifindex: 7, frame: buildGratuitousArp(MAC, V4.address) },
      { ifindex: 7, frame: buildUnsolicitedNeighborAdvert(MAC, V6.address) },
    ]);
  });

  it('native: names the VIP on failure and refuses non-Ethernet links', async () => {
    const { addon } = fakeAddon();
    await expect(nativeAnnouncementSender(addon).sendOnce({ ...V4, dev: 'eth9' })).rejects.toThrow(/^announce 203\.0\.113\.10\/24 on eth9: .*ENODEV/);
    const { addon: lo } = fakeAddon(772);
    await expect(nativeAnnouncementSender(lo).sendOnce(V4)).rejects.toThrow(/not Ethernet/);
  });

  it('arping: runs `arping -q -U -c 1 -I dev VIP` and refuses IPv6', async () => {
    const calls: string[][] = [];
    const sender = arpingAnnouncementSender({
      runner: (argv) => {
        calls.push([...argv]);
        return Promise.resolve({ code: calls.length === 1 ? 0 : 2, stdout: '', stderr: 'arping: bind: Cannot assign requested address' });
      },
    });
    await sender.sendOnce(V4);
    expect(calls[0]).toEqual(['arping', '-q', '-U', '-c', '1', '-I', 'eth0', '203.0.113.10']);
    await expect(sender.sendOnce(V4)).rejects.toThrow(/exit 2.*Cannot assign/);
    await expect(sender.sendOnce(V6)).rejects.toThrow(/need the native addon/);
    expect(arpingArgv('/usr/bin/arping', V4, 3)).toEqual(['/usr/bin/arping', '-q', '-U', '-c', '3', '-I', 'eth0', '203.0.113.10']);
  });

  it('picks the native sender when the addon is there, arping otherwise', () => {
    expect(createAnnouncementSender(fakeAddon().addon).kind).toBe('native');
    expect(createAnnouncementSender(undefined).kind).toBe('arping');
  });
});

describe('netlinkErrno', () => {
  it('extracts the errno name from the netlink package message', () => {
    expect(netlinkErrno(new Error('Request rejected: EEXIST'))).toBe('EEXIST');
    expect(netlinkErrno(new Error('Timeout has been reached'))).toBeUndefined();
  });
});
