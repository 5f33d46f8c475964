/**
 * The `user` of the programs lvskeep runs (health check scripts, track scripts, notify commands, script alert
 * sinks): a user name or uid, optionally with `:group` (name or gid). Resolved to numeric ids while the
 * configuration is loaded, so that an unknown user is a configuration error at its line (`lvskeep check`), not
 * a script that fails at 3 a.m.
 *
 * Look-ups read /etc/passwd and /etc/group directly: Node has no getpwnam(), and the daemon must not depend on
 * NSS modules (LDAP, sssd) answering while the network is failing over. Users that exist only through NSS can
 * be given numerically (`uid:gid`).
 */
import { readFileSync } from 'node:fs';
import { errorMessage } from '../util/errors.js';

export interface RunAs {
  /** As written (for logs and messages): `nobody`, `nobody:nogroup`, `65534`. */
  user: string;
  uid: number;
  gid: number;
}

export interface UserDb {
  /** Text of /etc/passwd. */
  passwd(): string;
  /** Text of /etc/group. */
  group(): string;
}

export const systemUserDb: UserDb = {
  passwd: () => readFileSync('/etc/passwd', 'utf8'),
  group: () => readFileSync('/etc/group', 'utf8'),
};

const MAX_ID = 4_294_967_294; // (uid_t)-1 means "unchanged" to setuid(2)
const NUMERIC = /^\d+$/;

interface Entry { name: string; id: number; gid?: number }

/** `name:x:uid:gid:...` (passwd) or `name:x:gid:members` (group) lines. Pure. */
function entries(text: string, withGid: boolean): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const id = Number(f[2]);
    if (f[0] === undefined || f[0] === '' || f.length < (withGid ? 4 : 3) || !Number.isInteger(id)) continue;
    const entry: Entry = { name: f[0], id };
    if (withGid) {
      const gid = Number(f[3]);
      if (!Number.isInteger(gid)) continue;
      entry.gid = gid;
    }
    out.push(entry);
  }
  return out;
}

/** uid and primary gid of a user name in /etc/passwd text; pure, exported for tests. */
export function userFromPasswd(passwd: string, name: string): { uid: number; gid: number } | undefined {
  const e = entries(passwd, true).find((x) => x.name === name);
  return e && e.gid !== undefined ? { uid: e.id, gid: e.gid } : undefined;
}

export type RunAsResult = { ok: true; value: RunAs } | { ok: false; message: string };

/**
 * `nobody`, `nobody:nogroup`, `65534`, `65534:65534`, or a YAML number. A uid without a passwd entry needs an
 * explicit group (there is no primary group to take). Pure given the database.
 */
export function resolveRunAs(value: unknown, db: UserDb = systemUserDb): RunAsResult {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || text === '') {
    return { ok: false, message: 'expected a user name or uid, optionally with :group (e.g. nobody or nobody:nogroup)' };
  }
  const parts = text.split(':');
  const [userPart, groupPart] = parts;
  if (parts.length > 2 || userPart === undefined || userPart === '' || groupPart === '') {
    return { ok: false, message: `expected USER or USER:GROUP (names or numbers), got ${JSON.stringify(text)}` };
  }
  let users: Entry[];
  let groups: Entry[] | undefined;
  try {
    users = entries(db.passwd(), true);
  } catch (err) {
    return { ok: false, message: `cannot read /etc/passwd to resolve user ${JSON.stringify(userPart)}: ${errorMessage(err)}` };
  }

  let uid: number;
  let gid: number | undefined;
  if (NUMERIC.test(userPart)) {
    uid = Number(userPart);
    if (uid > MAX_ID) return { ok: false, message: `uid ${userPart} is out of range` };
    gid = users.find((u) => u.id === uid)?.gid;
  } else {
    const u = users.find((x) => x.name === userPart);
    if (!u) return { ok: false, message: `user "${userPart}" not found in /etc/passwd` };
    uid = u.id;
    gid = u.gid;
  }

  if (groupPart !== undefined) {
    if (NUMERIC.test(groupPart)) {
      gid = Number(groupPart);
      if (gid > MAX_ID) return { ok: false, message: `gid ${groupPart} is out of range` };
    } else {
      try {
        groups = entries(db.group(), false);
      } catch (err) {
        return { ok: false, message: `cannot read /etc/group to resolve group ${JSON.stringify(groupPart)}: ${errorMessage(err)}` };
      }
      const g = groups.find((x) => x.name === groupPart);
      if (!g) return { ok: false, message: `group "${groupPart}" not found in /etc/group` };
      gid = g.id;
    }
  }
  if (gid === undefined) return { ok: false, message: `uid ${uid} has no /etc/passwd entry, so it has no primary group: write ${uid}:GID` };
  return { ok: true, value: { user: text, uid, gid } };
}
