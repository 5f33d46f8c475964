// Link-state notifications from the kernel: one rtnetlink socket in the process's network namespace, joined
// to RTNLGRP_LINK, shared by every instance's interface watcher. A link going down is then seen when the kernel
// says so, not at the next /sys poll. The package is loaded on first use, like the netlink VIP manager, so a
// host where its prebuilt binary cannot load falls back to polling.
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { readLinkNotice, RTM_DELLINK, RTM_NEWLINK, type LinkNotice } from './link-notice.js';
import type { Stoppable } from './track-sources.js';

export interface LinkEventSource {
  /**
   * `onNotice` for each link notification; `onLost` when some may have been missed (socket receive buffer
   * overrun: ENOBUFS), so the subscriber re-reads the state it cares about.
   */
  subscribe(onNotice: (n: LinkNotice) => void, onLost: (why: string) => void): Stoppable;
  close(): void;
}

export async function openLinkEvents(logger?: Logger): Promise<LinkEventSource> {
  const { createRtNetlink, rt } = await import('netlink');
  const socket = createRtNetlink();
  try {
    socket.addMembership('LINK');
  } catch (err) {
    socket.socket.close();
    throw err;
  }
  const subscribers = new Set<{ onNotice: (n: LinkNotice) => void; onLost: (why: string) => void }>();
  // The raw layer's messages keep their type (the rtnetlink layer parses NEWLINK and DELLINK alike to "link").
  socket.socket.on('message', (messages) => {
    for (const m of messages) {
      if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) continue;
      let notice: LinkNotice | undefined;
      try {
        notice = readLinkNotice(m.type, rt.parseLinkMessage(m.data));
      } catch (err) {
        logger?.warn({ err: errorMessage(err) }, 'unparsable rtnetlink link message');
        continue;
      }
      if (notice) for (const s of [...subscribers]) s.onNotice(notice);
    }
  });
  socket.socket.on('error', (err) => {
    for (const s of [...subscribers]) s.onLost(`rtnetlink link events: ${errorMessage(err)}`);
  });
  let closed = false;
  return {
    subscribe(onNotice, onLost): Stoppable {
      const s = { onNotice, onLost };
      subscribers.add(s);
      return { stop: () => void subscribers.delete(s) };
    },
    close(): void {
      if (closed) return;
      closed = true;
      subscribers.clear();
      socket.socket.close();
    },
  };
}
