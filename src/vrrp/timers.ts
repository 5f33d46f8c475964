// VRRP timer arithmetic, in milliseconds (fractions kept: k/256 values are exact in binary floating point).
//
// VRRPv3 (RFC 5798 6.1): Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256, in centiseconds,
//   Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time, where a backup learns Master_Adver_Interval
//   from the master's adverts.
// VRRPv2 (RFC 3768 6.1): Skew_Time = (256 - Priority) / 256 seconds (independent of the interval),
//   Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time; the interval is never learned (adverts with a
//   different one are dropped).
// keepalived computes both with the local effective priority, as here.
import type { VrrpVersion } from './codec.js';

export function skewTimeMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  if (version === 3) return ((256 - priority) * masterAdverIntervalCs * 10) / 256;
  return ((256 - priority) * 1000) / 256;
}

export function masterDownIntervalMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  return 3 * masterAdverIntervalCs * 10 + skewTimeMs(version, priority, masterAdverIntervalCs);
}

export function advertIntervalMs(intervalCs: number): number {
  return intervalCs * 10;
}
