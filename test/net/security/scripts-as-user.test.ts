// Every kind of script the configuration can run (health check, VRRP track script, VRRP notify, script alert sink)
// runs as its configured `user` with a clean environment. The users come from a configuration file loaded the
// way `lvskeep check`/`run` load it, so the ids are the ones the config layer resolved from /etc/passwd.
// Needs root (switching to nobody); runs in the net suite, which runs as root.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSink } from '../../../src/alerts/sinks/index.js';
import { sinkSettingsFromConfig } from '../../../src/alerts/from-config.js';
import { formatIssue, parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { createEvent } from '../../../src/events/types.js';
import { checkSpecOf } from '../../../src/health/from-config.js';
import { createScriptProber } from '../../../src/health/script.js';
import type { ScriptCheckSpec } from '../../../src/health/types.js';
import { spawnScriptRunner } from '../../../src/vrrp/runtime/track-sources.js';
import { describeIf } from '../../harness/privileges.js';
import { REPO } from '../daemon/cli.js';

const NOBODY = 65534;

describeIf({ label: 'net/security/scripts-as-user', root: true, commands: ['setpriv'] })('scripts run as their configured user', () => {
  let dir: string;
  let out: string;
  let config: LvskeepConfig;

  /** A script that records who ran it and which variables it got, in `out/<tag>`. */
  function recorder(tag: string, exit = 0): string {
    const path = join(dir, `${tag}.sh`);
    writeFileSync(path, `#!/bin/sh\n{ id -u; id -g; id -G; grep CapEff /proc/self/status; env | cut -d= -f1 | sort | tr '\\n' ' '; echo; } > '${join(out, tag)}'\nexit ${exit}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  function recorded(tag: string): { uid: number; gid: number; groups: string; capEff: string; env: string[]; owner: number } {
    const file = join(out, tag);
    const [uid, gid, groups, cap, env] = readFileSync(file, 'utf8').split('\n');
    return { uid: Number(uid), gid: Number(gid), groups: groups ?? '', capEff: (cap ?? '').replace(/^CapEff:\s*/, ''), env: (env ?? '').trim().split(' '), owner: statSync(file).uid };
  }

  function scriptSpec(vs: LvskeepConfig['virtual_servers'][number], rs: LvskeepConfig['virtual_servers'][number]['real_servers'][number]): ScriptCheckSpec {
    const spec = checkSpecOf(vs, rs, rs.check!);
    if (spec.type !== 'script') throw new Error(`expected a script check, got ${spec.type}`);
    return spec;
  }

  /** Variables a shell sets on its own; everything else must come from lvskeep's explicit list. */
  const SHELL_OWN = ['PWD', 'OLDPWD', 'SHLVL', '_'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-runas-'));
    chmodSync(dir, 0o755); // nobody must reach the scripts
    out = join(dir, 'out');
    mkdirSync(out);
    chmodSync(out, 0o1777); // and write its records
    process.env.LVSKEEP_TEST_SECRET = 'must-not-leak'; // as if from EnvironmentFile=
    const yaml = `vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      notify: [${recorder('notify')}]
      notify_user: nobody
      track:
        scripts:
          - { name: t, command: [${recorder('track')}], user: "nobody:nogroup" }
virtual_servers:
  - name: web
    address: 203.0.113.10:80
    check: { type: script, command: [${recorder('check', 1)}], user: "${NOBODY}" }
    real_servers:
      - address: 198.51.100.11:80
  - name: plain
    address: 203.0.113.11:80
    check: { type: script, command: [${recorder('check-root', 1)}] }
    real_servers:
      - address: 198.51.100.12:80
alerts:
  sinks:
    - { name: s, type: script, command: [${recorder('sink')}], user: nobody }
`;
    const r = parseConfigText(yaml, 'scripts.yaml');
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    config = r.config;
  });
  afterAll(() => {
    delete process.env.LVSKEEP_TEST_SECRET;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function expectNobody(tag: string): void {
    const r = recorded(tag);
    expect(r.uid).toBe(NOBODY);
    expect(r.gid).toBe(NOBODY);
    expect(r.groups).toBe(String(NOBODY)); // no supplementary groups left from root
    expect(r.capEff).toBe('0000000000000000'); // root's capabilities dropped with the uid
    expect(r.owner).toBe(NOBODY);
    expect(r.env).not.toContain('LVSKEEP_TEST_SECRET');
    expect(r.env.filter((n) => n !== 'PATH' && !n.startsWith('LVSKEEP_') && !SHELL_OWN.includes(n))).toEqual([]);
  }

  it('a health check script', async () => {
    const vs = config.virtual_servers[0]!;
    const rs = vs.real_servers[0]!;
    const prober = createScriptProber(scriptSpec(vs, rs), { address: '198.51.100.11', port: 80, virtualServer: 'web' });
    try {
      expect(await prober.probe()).toMatchObject({ ok: false, reason: 'exit 1' });
    } finally {
      await prober.close();
    }
    expectNobody('check');
    expect(recorded('check').env).toEqual(['LVSKEEP_RS_ADDR', 'LVSKEEP_RS_PORT', 'LVSKEEP_VS', 'PATH', 'PWD']);
  });

  it('without user a health check script runs as lvskeep itself (root)', async () => {
    const vs = config.virtual_servers[1]!;
    const rs = vs.real_servers[0]!;
    const prober = createScriptProber(scriptSpec(vs, rs), { address: '198.51.100.12', port: 80, virtualServer: 'web' });
    try {
      await prober.probe();
    } finally {
      await prober.close();
    }
    expect(recorded('check-root').uid).toBe(0);
  });

  it('a VRRP track script and a notify command', async () => {
    const inst = config.vrrp.instances[0]!;
    const track = inst.track.scripts[0]!;
    expect(await spawnScriptRunner(track.command, 5_000, track.user)).toEqual({ ok: true, detail: 'exit 0' });
    expectNobody('track');
    expect(await spawnScriptRunner([...inst.notify!, 'INSTANCE', 'v1', 'MASTER', '100'], 5_000, inst.notify_user)).toEqual({ ok: true, detail: 'exit 0' });
    expectNobody('notify');
  });

  it('a script alert sink, with only its event variables', async () => {
    const sink = createSink(sinkSettingsFromConfig(config.alerts.sinks[0]!), { host: 'lb1', now: Date.now });
    const event = createEvent({ type: 'alert.test', note: 'run-as test' }, Date.now());
    expect(await sink.deliver({ kind: 'test', events: [event] }, new AbortController().signal)).toEqual({ ok: true });
    expectNobody('sink');
  });

  it('a timed-out script of another user is still killed, with its process group', async () => {
    const path = join(dir, 'hang.sh');
    writeFileSync(path, `#!/bin/sh\nsleep 30 &\necho $! > '${join(out, 'hang.pid')}'\nwait\n`);
    chmodSync(path, 0o755);
    const r = await spawnScriptRunner([path], 500, { uid: NOBODY, gid: NOBODY });
    expect(r).toEqual({ ok: false, detail: 'timed out after 500 ms' });
    const pid = Number(readFileSync(join(out, 'hang.pid'), 'utf8'));
    const deadline = Date.now() + 5_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        gone = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
      } catch {
        gone = true;
      }
      if (!gone) await new Promise((res) => setTimeout(res, 50));
    }
    expect(gone).toBe(true);
  });

  it('lvskeep run refuses user keys it cannot honour (the shipped unit\'s bounding set), naming the fix', () => {
    const file = join(dir, 'capless.yaml');
    writeFileSync(file, `control: { socket: ${join(dir, 'capless', 'lvskeep.sock')} }
metrics: { enabled: false }
virtual_servers:
  - name: web
    address: 203.0.113.10:80
    check: { type: script, command: [${recorder('capless')}], user: nobody }
    real_servers: [{ address: 198.51.100.11:80 }]
`);
    // As systemd would start it with CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW.
    const r = spawnSync('setpriv', ['--bounding-set=-all,+net_admin,+net_raw', '--inh-caps=-all', '--', process.execPath, '--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), 'run', '-c', file, '--dry-run'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('virtual_servers[0].check.user (nobody): running scripts as another user needs CAP_SETUID, CAP_SETGID, CAP_KILL');
    expect(r.stdout).toContain('configuration cannot run here; not starting');
  });
});
