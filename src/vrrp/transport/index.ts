export type { VrrpTransport, ReceivedVrrpPacket, PacketListener, TransportStats, DropReason, IpFamily } from './types.js';
export { createRawTransport, type RawTransportDeps } from './raw.js';
export { createUdpTransport, type UdpTransportDeps } from './udp.js';
export { resolveTransportOptions, type TransportOptions, type ResolvedTransportOptions, DEFAULT_UDP_PORT, VRRP_MULTICAST_V4, VRRP_MULTICAST_V6 } from './options.js';
export { loadNativeAddon, tryLoadNativeAddon, NativeAddonUnavailableError, NATIVE_NOT_BUILT_MESSAGE } from './native.js';

import type { Logger } from '../../log/logger.js';
import { createRawTransport } from './raw.js';
import type { TransportOptions } from './options.js';
import type { VrrpTransport } from './types.js';
import { createUdpTransport } from './udp.js';

/** The daemon's single entry point: `raw` (RFC 5798 on the wire) or `udp` (lvskeep-to-lvskeep only). */
export async function createVrrpTransport(kind: 'raw' | 'udp', options: TransportOptions, deps: { logger?: Logger } = {}): Promise<VrrpTransport> {
  return kind === 'raw' ? createRawTransport(options, deps) : createUdpTransport(options, deps);
}
