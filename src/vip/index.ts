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
