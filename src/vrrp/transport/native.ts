/**
 * Loader and types for the lvskeep C addon (src/native/): raw IP sockets with recvmsg metadata and
 * AF_PACKET frame sending. Loaded lazily so commands that never touch VRRP work without a build.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** How to fix a missing or unloadable addon, said the same way by check, run and the transport. */
export const NATIVE_BUILD_HINT = 'build it with `npm run build:native` (needs the Debian packages python3, make and g++)';
export const NATIVE_NOT_BUILT_MESSAGE = `lvskeep native addon not built or not loadable: ${NATIVE_BUILD_HINT}`;

/** Overrides where the addon is loaded from (packagers who install it elsewhere; tests that make it unloadable). */
export const NATIVE_ADDON_ENV = 'LVSKEEP_NATIVE_ADDON';

/** The API version the C side exports as `abiVersion`; bump both together. */
const EXPECTED_ABI = 1;

/** One datagram as delivered by RawSocket.startReceiving. */
export interface NativePacket {
  /** Protocol payload (for IPv4 the IP header is already stripped). */
  payload: Buffer;
  src: string;
  /** Empty when the kernel gave no destination. */
  dst: string;
  /** IPv4 TTL from the header or IPv6 hop limit from IPV6_HOPLIMIT; -1 when unknown. */
  ttl: number;
  /** Ingress interface from IP_PKTINFO / IPV6_PKTINFO; 0 when unknown. */
  ifindex: number;
  truncated: boolean;
  /** Set when the datagram could not be parsed; payload is then empty. */
  malformed?: string;
}

export type NativeReceiveCallback = (err: (Error & { code?: string }) | null, packets: NativePacket[]) => void;

export interface NativeRawSocket {
  bindToDevice(ifname: string): void;
  /** Sets the source of sent packets; a bound raw socket also receives only packets addressed to it. */
  bindAddress(address: string, scopeId: number): void;
  joinGroup(group: string, ifindex: number): void;
  leaveGroup(group: string, ifindex: number): void;
  setMulticastInterface(ifindex: number): void;
  /** Unicast and multicast TTL / hop limit together. */
  setTtl(ttl: number): void;
  setMulticastLoop(on: boolean): void;
  setMulticastAll(on: boolean): void;
  /** IPv6 only: -1 = off, else the offset of a checksum the kernel fills in and verifies. */
  setIpv6Checksum(offset: number): void;
  /** Attach a BPF filter that accepts nothing (send-only sockets). */
  dropAllInput(): void;
  send(payload: Buffer, dest: string, scopeId: number): number;
  startReceiving(callback: NativeReceiveCallback): void;
  stopReceiving(): void;
  close(): void;
  isClosed(): boolean;
}

export interface NativeInterfaceInfo {
  index: number;
  /** ARPHRD_* (1 = Ethernet, 772 = loopback). */
  hwType: number;
  mac: Buffer;
}

export interface NativeAddon {
  abiVersion: number;
  RawSocket: new (family: 4 | 6, protocol: number) => NativeRawSocket;
  sendEthernetFrame(ifindex: number, frame: Buffer): number;
  interfaceInfo(ifname: string): NativeInterfaceInfo;
  /**
   * SCHED_RR (with SCHED_RESET_ON_FORK) at `priority` 1..99 for the calling thread only, after setting RLIMIT_RTTIME
   * to `rttimeUs` (soft; hard twice that; 0 leaves it). Throws Error with `code` = errno name (EPERM without
   * CAP_SYS_NICE). Optional: added without an ABI bump, so an older build lacks it and VRRP runs without RT.
   */
  setRealtime?(priority: number, rttimeUs: number): void;
  /** The calling thread's scheduling policy and RT priority (tests, diagnostics). Optional like setRealtime. */
  schedPolicy?(): { policy: string; priority: number };
}

/** Thrown when the addon is missing or from an incompatible build; `cause` says which. */
export class NativeAddonUnavailableError extends Error {
  readonly code = 'ELVSKEEP_NATIVE_MISSING';
  constructor(readonly addonPath: string, cause: unknown) {
    super(NATIVE_NOT_BUILT_MESSAGE, { cause });
    this.name = 'NativeAddonUnavailableError';
  }
}

/** src/vrrp/transport/ and dist/vrrp/transport/ are both three levels below the package root. */
export const DEFAULT_ADDON_PATH = fileURLToPath(new URL('../../../src/native/build/Release/lvskeep_native.node', import.meta.url));

/** The addon file this process loads: $LVSKEEP_NATIVE_ADDON when set, else the build output. */
export function nativeAddonPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[NATIVE_ADDON_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_ADDON_PATH;
}

const cache = new Map<string, NativeAddon>();

/** Load the addon or throw NativeAddonUnavailableError. */
export function loadNativeAddon(addonPath: string = nativeAddonPath()): NativeAddon {
  const cached = cache.get(addonPath);
  if (cached) return cached;
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(addonPath);
  } catch (err) {
    throw new NativeAddonUnavailableError(addonPath, err);
  }
  const abi = (loaded as { abiVersion?: unknown } | null)?.abiVersion;
  if (abi !== EXPECTED_ABI) {
    throw new NativeAddonUnavailableError(addonPath, new Error(`stale build at ${addonPath}: abiVersion ${String(abi)}, expected ${EXPECTED_ABI}`));
  }
  const addon = loaded as NativeAddon;
  cache.set(addonPath, addon);
  return addon;
}

/** The addon, or undefined when it is unavailable (for callers with a fallback such as arping). */
export function tryLoadNativeAddon(addonPath: string = nativeAddonPath()): NativeAddon | undefined {
  try {
    return loadNativeAddon(addonPath);
  } catch (err) {
    if (err instanceof NativeAddonUnavailableError) return undefined;
    throw err;
  }
}

/** Why the addon cannot be loaded (its path and the loader's own error), or undefined when it loads. */
export function nativeAddonProblem(addonPath: string = nativeAddonPath()): string | undefined {
  try {
    loadNativeAddon(addonPath);
    return undefined;
  } catch (err) {
    if (!(err instanceof NativeAddonUnavailableError)) throw err;
    // The loader's first line (dlopen's "cannot open shared object file", "invalid ELF header", a stale abiVersion).
    const cause = (err.cause instanceof Error ? err.cause.message : String(err.cause)).split('\n')[0];
    return `cannot load ${addonPath}: ${cause}`;
  }
}
