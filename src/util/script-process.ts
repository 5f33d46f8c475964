/**
 * What every program lvskeep runs from the configuration (health check scripts, VRRP track scripts and notify
 * commands, script alert sinks) has in common: an argv list run without a shell, a clean environment with a
 * fixed PATH (the daemon's own environment holds secrets from EnvironmentFile= and must not leak into scripts),
 * and optionally another user.
 */
import type { SpawnOptions } from 'node:child_process';

/** The only inherited-looking variable a script gets; everything else is set explicitly per kind of script. */
export const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Numeric ids, resolved when the configuration was loaded (src/config/users.ts). */
export interface ScriptUser {
  uid: number;
  gid: number;
}

/**
 * spawn() options for a script: clean environment, no shell, and the user's ids. With uid/gid set, libuv's child
 * calls setgroups(0, NULL) before setgid()/setuid(), so the script keeps no supplementary groups of the daemon
 * (nor gets the user's own: there is no initgroups()).
 */
export function scriptSpawnOptions(env: Record<string, string>, user?: ScriptUser): SpawnOptions {
  return {
    env: { PATH: SCRIPT_PATH, ...env },
    shell: false,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  };
}
