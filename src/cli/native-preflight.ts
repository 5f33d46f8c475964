/**
 * Says before anything starts whether the configuration needs the native addon and the host cannot load it:
 * one issue per instance, at the instance's place in the file, with the fix. `check` prints them; `run`
 * refuses to start on errors (an instance with `transport: vrrp` could never send an advert).
 */
import type { ConfigIssue } from '../config/issues.js';
import type { PathIssue } from '../config/issues.js';
import type { VrrpConfig } from '../config/types.js';
import { nativeNeeds } from '../vrrp/native-needs.js';
import { NATIVE_BUILD_HINT, nativeAddonProblem } from '../vrrp/transport/native.js';

export interface NativePreflight {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export function nativePreflight(
  vrrp: Pick<VrrpConfig, 'instances'>,
  place: (issues: readonly PathIssue[]) => ConfigIssue[],
  problemOf: () => string | undefined = () => nativeAddonProblem(),
): NativePreflight {
  // Loading the addon is only attempted when some instance would use it.
  if (vrrp.instances.length === 0) return { errors: [], warnings: [] };
  const problem = problemOf();
  if (problem === undefined) return { errors: [], warnings: [] };
  const needs = nativeNeeds(vrrp, `${problem}; ${NATIVE_BUILD_HINT}`);
  return {
    errors: place(needs.filter((n) => n.severity === 'error')),
    warnings: place(needs.filter((n) => n.severity === 'warning')),
  };
}
