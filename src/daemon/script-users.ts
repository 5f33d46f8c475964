/**
 * Scripts configured with a `user` need the daemon to switch user (CAP_SETUID, CAP_SETGID) and to end them on
 * timeout (CAP_KILL: the script no longer has the daemon's uid). The shipped systemd unit keeps only
 * CAP_NET_ADMIN and CAP_NET_RAW, so under it every such script would fail to start (EPERM), and a health check
 * that cannot start marks its real server down. Better to refuse the configuration with the reason and the fix.
 */
import { readFileSync } from 'node:fs';
import type { LvskeepConfig } from '../config/types.js';
import type { RunAs } from '../config/users.js';

const CAP_KILL = 5n;
const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

/** Every `user` in the configuration with the key it is at. Pure. */
export function scriptUsers(c: LvskeepConfig): { where: string; user: RunAs }[] {
  const out: { where: string; user: RunAs }[] = [];
  c.vrrp.instances.forEach((inst, n) => {
    if (inst.notify_user) out.push({ where: `vrrp.instances[${n}].notify_user`, user: inst.notify_user });
    inst.track.scripts.forEach((s, k) => {
      if (s.user) out.push({ where: `vrrp.instances[${n}].track.scripts[${k}].user`, user: s.user });
    });
  });
  c.virtual_servers.forEach((vs, n) => {
    if (vs.check?.type === 'script' && vs.check.user) out.push({ where: `virtual_servers[${n}].check.user`, user: vs.check.user });
    vs.real_servers.forEach((rs, k) => {
      if (rs.check !== vs.check && rs.check?.type === 'script' && rs.check.user) out.push({ where: `virtual_servers[${n}].real_servers[${k}].check.user`, user: rs.check.user });
    });
  });
  c.alerts.sinks.forEach((s, n) => {
    if (s.user) out.push({ where: `alerts.sinks[${n}].user`, user: s.user });
  });
  return out;
}

/** The effective capability set from /proc/self/status, or undefined where there is none to read. */
export function readEffectiveCaps(status: () => string = () => readFileSync('/proc/self/status', 'utf8')): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status());
    return m ? BigInt(`0x${m[1] as string}`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the configured users cannot be switched to, or undefined when they can (or none differs from the daemon's
 * own ids). Pure given its inputs.
 */
export function scriptUserProblem(c: LvskeepConfig, self: { uid: number; gid: number }, caps: bigint | undefined): string | undefined {
  const others = scriptUsers(c).filter((u) => u.user.uid !== self.uid || u.user.gid !== self.gid);
  if (others.length === 0 || caps === undefined) return undefined;
  const missing = ([['CAP_SETUID', CAP_SETUID], ['CAP_SETGID', CAP_SETGID], ['CAP_KILL', CAP_KILL]] as const).filter(([, bit]) => (caps & (1n << bit)) === 0n).map(([name]) => name);
  if (missing.length === 0) return undefined;
  const first = others[0] as { where: string; user: RunAs };
  return `${first.where} (${first.user.user})${others.length > 1 ? ` and ${others.length - 1} more` : ''}: running scripts as another user needs ${missing.join(', ')}, which this process does not have; under systemd add them with a drop-in (systemctl edit lvskeep: [Service] CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL), or remove the user keys`;
}
