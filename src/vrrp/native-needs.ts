// Which configured VRRP instances need the native addon, and how badly. Pure: `lvskeep check` and `lvskeep run`
// use it to say up front, per instance, what a missing addon breaks, instead of failing later when a raw socket
// opens or a gratuitous ARP is due.
//
// - `transport: vrrp` (IP protocol 112) has no fallback: Node has no raw IP sockets. Without the addon the
//   instance cannot run at all, so this is an error.
// - Announcements fall back to `arping -U` for IPv4 VIPs (iputils-arping), so there it is a warning; IPv6 VIPs
//   have no fallback for unsolicited neighbour advertisements: the addresses still move, but neighbours keep
//   the old master's MAC until their cache expires. Also a warning: the instance works, failover is slower.
import type { PathIssue } from '../config/issues.js';
import type { VrrpConfig } from '../config/types.js';

export interface NativeNeed extends PathIssue {
  severity: 'error' | 'warning';
}

/** One entry per instance that needs the addon; `problem` says why it cannot be loaded. */
export function nativeNeeds(vrrp: Pick<VrrpConfig, 'instances'>, problem: string): NativeNeed[] {
  const out: NativeNeed[] = [];
  vrrp.instances.forEach((inst, n) => {
    const base = ['vrrp', 'instances', n];
    const family = inst.virtual_ips[0]?.address.family ?? 4;
    if (inst.transport === 'vrrp') {
      out.push({
        severity: 'error',
        path: [...base, 'transport'],
        message: `instance "${inst.name}" uses transport vrrp (IP protocol 112), which needs the lvskeep native addon: ${problem}`,
      });
      return;
    }
    if (inst.garp.repeat === 0) return;
    out.push(
      family === 4
        ? {
            severity: 'warning',
            path: [...base, 'garp'],
            message: `instance "${inst.name}": gratuitous ARP falls back to \`arping -U\` (Debian package iputils-arping) because the native addon is unavailable: ${problem}`,
          }
        : {
            severity: 'warning',
            path: [...base, 'garp'],
            message: `instance "${inst.name}": unsolicited neighbour advertisements for its IPv6 VIPs need the native addon, and it is unavailable: ${problem}`,
          },
    );
  });
  return out;
}
