export type { VrrpTransport, ReceivedVrrpPacket, PacketListener, TransportStats, DropReason, IpFamily } from './types.js';
export { createRawTransport, type RawTransportDeps } from './raw.js';
export { createUdpTransport, type UdpTransportDeps } from './udp.js';
export { resolveTransportOptions, type TransportOptions, type ResolvedTransportOptions, DEFAULT_UDP_PORT, VRRP_MULTICAST_V4, VRRP_MULTICAST_V6 } from './options.js';
export { loadNativeAddon, tryLoadNativeAddon, NativeAddonUnavailableError, NATIVE_NOT_BUILT_MESSAGE } from './native.js';
