/**
 * Tell the LAN that VIPs now live here: gratuitous ARP (IPv4) / unsolicited NA (IPv6) after a
 * configurable delay, repeated, and optionally refreshed periodically (switches and hosts that
 * missed the first burst, or age their caches, learn again). Timers are injectable for tests.
 */
import { isIP } from 'node:net';

import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import type { NativeAddon } from '../vrrp/transport/native.js';
import { buildGratuitousArp, buildUnsolicitedNeighborAdvert } from './frames.js';
import { execFileRunner, type CommandRunner } from './iproute2.js';
import { describeVip, type Vip } from './types.js';
import type { Timers } from '../util/timers.js';

export interface AnnouncementSender {
  readonly kind: 'native' | 'arping';
  /** Send one announcement for one VIP; rejects with an error naming the VIP and device. */
  sendOnce(vip: Vip): Promise<void>;
}

const ARPHRD_ETHER = 1;

/** Frames built in TypeScript, sent through the addon's AF_PACKET socket. */
export function nativeAnnouncementSender(addon: NativeAddon, opts: { router?: boolean } = {}): AnnouncementSender {
  return {
    kind: 'native',
    sendOnce(vip: Vip): Promise<void> {
      try {
        // Looked up each time: the interface may have been recreated (new index, new MAC) since the last burst.
        const info = addon.interfaceInfo(vip.dev);
        if (info.hwType !== ARPHRD_ETHER) throw new Error(`interface ${vip.dev} is not Ethernet (ARPHRD ${info.hwType}); nothing to announce`);
        const frame = isIP(vip.address) === 6 ? buildUnsolicitedNeighborAdvert(info.mac, vip.address, opts) : buildGratuitousArp(info.mac, vip.address);
        addon.sendEthernetFrame(info.index, frame);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(new Error(`announce ${describeVip(vip)}: ${errorMessage(err)}`, { cause: err }));
      }
    },
  };
}

/** Fallback without the addon: iputils `arping -U` (IPv4 only; there is no equivalent NA tool we can rely on). */
export function arpingAnnouncementSender(opts: { runner?: CommandRunner; arping?: string; timeoutMs?: number } = {}): AnnouncementSender {
  const run = opts.runner ?? execFileRunner;
  const arping = opts.arping ?? 'arping';
  const timeoutMs = opts.timeoutMs ?? 3000;
  return {
    kind: 'arping',
    async sendOnce(vip: Vip): Promise<void> {
      if (isIP(vip.address) !== 4) {
        throw new Error(`announce ${describeVip(vip)}: unsolicited neighbour advertisements need the native addon (run \`npm run build\`)`);
      }
      const argv = arpingArgv(arping, vip, 1);
      const r = await run(argv, timeoutMs);
      if (r.code !== 0) throw new Error(`announce ${describeVip(vip)}: ${argv.join(' ')} failed (exit ${r.code ?? 'none'}): ${r.stderr.trim() || r.stdout.trim()}`);
    },
  };
}

/** `arping -U -c N -I dev VIP`: -U sends unsolicited ARP (sender = target = VIP); -q keeps stdout quiet. */
export function arpingArgv(arping: string, vip: Vip, count: number): string[] {
  return [arping, '-q', '-U', '-c', String(count), '-I', vip.dev, vip.address];
}

/** The native sender when the addon is available, else arping. */
export function createAnnouncementSender(addon: NativeAddon | undefined, opts: { router?: boolean; runner?: CommandRunner } = {}): AnnouncementSender {
  return addon ? nativeAnnouncementSender(addon, opts) : arpingAnnouncementSender({ runner: opts.runner });
}

export interface AnnounceTiming {
  /** Wait before the first announcement (ms), e.g. to let the address settle. */
  delayMs: number;
  /** Announcements per burst (>= 1). */
  repeat: number;
  /** Gap between announcements of one burst (ms). */
  intervalMs: number;
  /** Period of refresh bursts after the first (ms); 0 = no refresh. */
  refreshMs: number;
  /** Announcements per refresh burst; default `repeat`. */
  refreshRepeat?: number;
}

export const DEFAULT_ANNOUNCE_TIMING: AnnounceTiming = { delayMs: 0, repeat: 5, intervalMs: 1000, refreshMs: 0 };

/** Throws an Error naming the field; bounds keep a typo from flooding the LAN. */
export function validateAnnounceTiming(t: AnnounceTiming): AnnounceTiming {
  const check = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`announce timing: ${name} must be an integer ${min}..${max}, got ${String(v)}`);
  };
  check('delayMs', t.delayMs, 0, 3_600_000);
  check('repeat', t.repeat, 1, 100);
  check('intervalMs', t.intervalMs, 0, 60_000);
  if (t.refreshMs !== 0) check('refreshMs', t.refreshMs, 100, 86_400_000);
  if (t.refreshRepeat !== undefined) check('refreshRepeat', t.refreshRepeat, 1, 100);
  return t;
}

/** Offsets (ms from start) of the first burst's announcements. Pure. */
export function burstOffsets(delayMs: number, repeat: number, intervalMs: number): number[] {
  return Array.from({ length: repeat }, (_, i) => delayMs + i * intervalMs);
}

export type { Timers };

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface AnnouncementRun {
  /** Stop every pending announcement; safe to call more than once. */
  stop(): void;
  /** Resolves when the first burst has been sent (or stop() was called). Never rejects. */
  readonly firstBurst: Promise<void>;
  counts(): { sent: number; failed: number };
}

/**
 * Announce `vips` per `timing`. Ticks are chained timeouts (no setInterval), and the next tick is
 * scheduled only after the current sends settle, so a slow sender can never pile up overlapping bursts.
 */
export function scheduleAnnouncements(
  vips: readonly Vip[],
  sender: AnnouncementSender,
  timing: AnnounceTiming,
  deps: { timers?: Timers; logger?: Logger } = {},
): AnnouncementRun {
  validateAnnounceTiming(timing);
  const timers = deps.timers ?? realTimers;
  const logger = deps.logger ?? silentLogger();
  let handle: unknown;
  let stopped = false;
  let sent = 0;
  let failed = 0;
  let resolveFirst: () => void = () => undefined;
  const firstBurst = new Promise<void>((r) => {
    resolveFirst = r;
  });

  const sendAll = async (): Promise<void> => {
    await Promise.all(
      vips.map(async (vip) => {
        try {
          await sender.sendOnce(vip);
          sent++;
        } catch (err) {
          failed++;
          logger.warn({ err: errorMessage(err), vip: describeVip(vip), sender: sender.kind }, 'VIP announcement failed');
        }
      }),
    );
  };

  // `left` announcements remain in the current burst; when it is done, the refresh burst (if any) follows.
  const tick = (left: number, first: boolean): void => {
    if (stopped) return;
    void sendAll().then(() => {
      if (stopped) return;
      if (left > 1) {
        handle = timers.setTimeout(() => tick(left - 1, first), timing.intervalMs);
        return;
      }
      if (first) resolveFirst();
      if (timing.refreshMs > 0) handle = timers.setTimeout(() => tick(timing.refreshRepeat ?? timing.repeat, false), timing.refreshMs);
    });
  };

  if (vips.length === 0) resolveFirst();
  else handle = timers.setTimeout(() => tick(timing.repeat, true), timing.delayMs);

  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
      resolveFirst();
    },
    firstBurst,
    counts: () => ({ sent, failed }),
  };
}
