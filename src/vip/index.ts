export { describeVip, VipError, type Vip, type VipManager } from './types.js';
export { validateVip, vipFamily, vipKey } from './vip-spec.js';
export { createIproute2VipManager, type Iproute2Options } from './iproute2.js';
export { createNetlinkVipManager, type NetlinkVipOptions } from './netlink.js';
export { buildGratuitousArp, buildUnsolicitedNeighborAdvert, internetChecksum } from './frames.js';
export {
  arpingAnnouncementSender,
  createAnnouncementSender,
  DEFAULT_ANNOUNCE_TIMING,
  nativeAnnouncementSender,
  scheduleAnnouncements,
  validateAnnounceTiming,
  type AnnounceTiming,
  type AnnouncementRun,
  type AnnouncementSender,
  type Timers,
} from './announce.js';

import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { createIproute2VipManager } from './iproute2.js';
import { createNetlinkVipManager } from './netlink.js';
import type { VipManager } from './types.js';

/**
 * `netlink` (default) or `iproute2`; `auto` tries netlink and falls back to iproute2 when the
 * netlink package cannot load on this host, saying so in the log.
 */
export async function createVipManager(kind: 'netlink' | 'iproute2' | 'auto' = 'auto', deps: { logger?: Logger } = {}): Promise<VipManager> {
  if (kind === 'iproute2') return createIproute2VipManager();
  if (kind === 'netlink') return createNetlinkVipManager();
  try {
    return await createNetlinkVipManager();
  } catch (err) {
    deps.logger?.warn({ err: errorMessage(err) }, 'netlink VIP manager unavailable; using iproute2 (`ip addr`)');
    return createIproute2VipManager();
  }
}
