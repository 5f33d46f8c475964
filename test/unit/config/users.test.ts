/** `user` of scripts: parsed and resolved to numeric ids at load time, unknown users are errors at their line. */
import { describe, expect, it } from 'vitest';
import { resolveRunAs, userFromPasswd, type UserDb } from '../../../src/config/users.js';
import { errors, INSTANCE, load, messagesAt, VS } from './helpers.js';

const db: UserDb = {
  passwd: () => 'root:x:0:0:root:/root:/bin/bash\n# comment\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nprobe:x:990:991::/:/usr/sbin/nologin\n',
  group: () => 'root:x:0:\nnogroup:x:65534:\nprobe:x:991:\nmonitor:x:992:probe\n',
};

describe('resolveRunAs', () => {
  it('resolves names and uids to the user\'s primary group', () => {
    expect(resolveRunAs('nobody', db)).toEqual({ ok: true, value: { user: 'nobody', uid: 65534, gid: 65534 } });
    expect(resolveRunAs('probe', db)).toEqual({ ok: true, value: { user: 'probe', uid: 990, gid: 991 } });
    expect(resolveRunAs(990, db)).toEqual({ ok: true, value: { user: '990', uid: 990, gid: 991 } });
    expect(resolveRunAs('0', db)).toEqual({ ok: true, value: { user: '0', uid: 0, gid: 0 } });
  });

  it('takes an explicit group by name or number', () => {
    expect(resolveRunAs('probe:monitor', db)).toEqual({ ok: true, value: { user: 'probe:monitor', uid: 990, gid: 992 } });
    expect(resolveRunAs('nobody:5000', db)).toEqual({ ok: true, value: { user: 'nobody:5000', uid: 65534, gid: 5000 } });
    expect(resolveRunAs('4242:4242', db)).toEqual({ ok: true, value: { user: '4242:4242', uid: 4242, gid: 4242 } });
  });

  it('refuses unknown users and groups, a uid without group, and malformed values', () => {
    expect(resolveRunAs('nobdy', db)).toEqual({ ok: false, message: 'user "nobdy" not found in /etc/passwd' });
    expect(resolveRunAs('nobody:staff', db)).toEqual({ ok: false, message: 'group "staff" not found in /etc/group' });
    expect(resolveRunAs('4242', db)).toEqual({ ok: false, message: 'uid 4242 has no /etc/passwd entry, so it has no primary group: write 4242:GID' });
    expect(resolveRunAs('a:b:c', db).ok).toBe(false);
    expect(resolveRunAs('nobody:', db).ok).toBe(false);
    expect(resolveRunAs(':0', db).ok).toBe(false);
    expect(resolveRunAs(['nobody'], db).ok).toBe(false);
    expect(resolveRunAs('4294967295', db)).toEqual({ ok: false, message: 'uid 4294967295 is out of range' });
  });

  it('says when the user database cannot be read', () => {
    const broken: UserDb = { passwd: () => { throw new Error('EACCES: permission denied'); }, group: db.group };
    expect(resolveRunAs('nobody', broken)).toEqual({ ok: false, message: 'cannot read /etc/passwd to resolve user "nobody": EACCES: permission denied' });
  });

  it('reads uid/gid from passwd text', () => {
    expect(userFromPasswd(db.passwd(), 'nobody')).toEqual({ uid: 65534, gid: 65534 });
    expect(userFromPasswd(db.passwd(), 'nob')).toBeUndefined();
  });
});

// These load through the real /etc/passwd: root and nobody exist on every Debian system, the other name nowhere.
describe('user keys in the configuration', () => {
  const UNKNOWN = 'lvskeep-no-such-user';

  it('every script the configuration can run takes a user', () => {
    const c = load(`${INSTANCE}      notify: [/usr/local/bin/notify]
      notify_user: nobody
      track:
        scripts:
          - { name: db, command: [/usr/local/bin/db-ok], user: "nobody:nogroup" }
${VS.replace('    real_servers:', '    check: { type: script, command: [/usr/local/bin/check], user: 65534 }\n    real_servers:')}alerts:
  sinks:
    - { name: s, type: script, command: [/usr/local/bin/alert], user: root }
`);
    const nobody = { uid: 65534, gid: 65534 };
    expect(c.vrrp.instances[0]?.notify_user).toMatchObject({ user: 'nobody', ...nobody });
    expect(c.vrrp.instances[0]?.track.scripts[0]?.user).toMatchObject({ user: 'nobody:nogroup', ...nobody });
    const check = c.virtual_servers[0]?.check;
    expect(check?.type === 'script' && check.user).toMatchObject({ user: '65534', ...nobody });
    expect(c.alerts.sinks[0]?.user).toEqual({ user: 'root', uid: 0, gid: 0 });
  });

  it('an unknown user is an error at its line and column, wherever it is', () => {
    const yaml = `${INSTANCE}      notify: [/usr/local/bin/notify]
      notify_user: ${UNKNOWN}
      track:
        scripts:
          - name: db
            command: [/usr/local/bin/db-ok]
            user: ${UNKNOWN}
${VS.replace('    real_servers:', `    check: { type: script, command: [/usr/local/bin/check], user: ${UNKNOWN} }\n    real_servers:`)}alerts:
  sinks:
    - { name: s, type: script, command: [/usr/local/bin/alert], user: "nobody:${UNKNOWN}" }
`;
    expect(errors(yaml)).toEqual([
      `t.yaml:8:20: vrrp.instances[0].notify_user: user "${UNKNOWN}" not found in /etc/passwd`,
      `t.yaml:13:19: vrrp.instances[0].track.scripts[0].user: user "${UNKNOWN}" not found in /etc/passwd`,
      `t.yaml:17:67: virtual_servers[0].check.user: user "${UNKNOWN}" not found in /etc/passwd`,
      `t.yaml:22:71: alerts.sinks[0].user: group "${UNKNOWN}" not found in /etc/group`,
    ]);
  });

  it('user is only for script sinks, notify_user only with notify', () => {
    expect(messagesAt('alerts:\n  sinks:\n    - { name: w, type: webhook, url: "https://example.test/h", user: nobody }\n', 'alerts.sinks[0].user')).toEqual([
      'user is not used by webhook sinks (only by script)',
    ]);
    expect(messagesAt(`${INSTANCE}      notify_user: nobody\n`, 'vrrp.instances[0].notify_user')).toEqual(['notify_user is only used with notify']);
  });
});
