// Watches the link state of an instance's interfaces. With a LinkEventSource (rtnetlink RTNLGRP_LINK) a change
// is reported when the kernel announces it and /sys is only re-read slowly, as a safety net for a missed or
// mis-parsed notification; without one, /sys is polled quickly as before.
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { LinkEventSource } from './link-events.js';
import type { RuntimeTimers } from './timers.js';
import { realRuntimeTimers } from './timers.js';
import { operstateIsUp, readOperstate, type Stoppable, type UpDownListener } from './track-sources.js';

export const LINK_POLL_MS = 200;
export const LINK_SAFETY_POLL_MS = 5000;

export interface WatchInterfacesOptions {
  /** Poll period without events (ms); default 200. */
  intervalMs?: number | undefined;
  /** Poll period while events arrive (ms); default 5000. */
  safetyPollMs?: number | undefined;
  events?: LinkEventSource | undefined;
  read?: (ifname: string) => Promise<string | undefined>;
  timers?: RuntimeTimers;
  logger?: Logger;
}

/**
 * Reports every interface once at start, then on each change; `detail` says whether an event or the poll saw it.
 * A poll result is discarded when an event for that interface arrived while /sys was being read: the event is newer.
 */
export function watchInterfaces(names: readonly string[], onChange: UpDownListener, opts: WatchInterfacesOptions = {}): Stoppable {
  const timers = opts.timers ?? realRuntimeTimers;
  const read = opts.read ?? readOperstate;
  const periodMs = opts.events ? (opts.safetyPollMs ?? LINK_SAFETY_POLL_MS) : (opts.intervalMs ?? LINK_POLL_MS);
  const watched = new Set(names);
  const known = new Map<string, boolean>();
  const generation = new Map<string, number>();
  let stopped = false;
  let handle: unknown;
  let polling = false;
  let pollAgain = false;

  const report = (name: string, text: string | undefined, how: string): void => {
    const up = operstateIsUp(text);
    if (known.get(name) === up) return;
    known.set(name, up);
    onChange(name, up, `interface ${name} operstate ${(text ?? 'absent').trim()} (${how})`);
  };

  const poll = async (): Promise<void> => {
    for (const name of names) {
      const before = generation.get(name) ?? 0;
      let text: string | undefined;
      try {
        text = await read(name);
      } catch (err) {
        opts.logger?.warn({ interface: name, err: errorMessage(err) }, 'cannot read interface state');
        continue;
      }
      if (stopped) return;
      if ((generation.get(name) ?? 0) !== before) continue;
      report(name, text, 'poll');
    }
  };
  const tick = (): void => {
    if (stopped) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    if (handle !== undefined) timers.clearTimeout(handle);
    handle = undefined;
    void poll().finally(() => {
      polling = false;
      if (stopped) return;
      if (pollAgain) {
        pollAgain = false;
        tick();
        return;
      }
      handle = timers.setTimeout(tick, periodMs);
    });
  };

  const subscription = opts.events?.subscribe(
    (n) => {
      if (stopped || !watched.has(n.ifname)) return;
      generation.set(n.ifname, (generation.get(n.ifname) ?? 0) + 1);
      report(n.ifname, n.operstate, 'rtnetlink');
    },
    (why) => {
      // Notifications were lost: re-read now rather than at the next safety poll.
      opts.logger?.warn({ err: why }, 'link notifications lost; re-reading interface states');
      tick();
    },
  );
  tick();
  return {
    stop(): void {
      stopped = true;
      subscription?.stop();
      if (handle !== undefined) timers.clearTimeout(handle);
    },
  };
}
