// `lvskeep lab` on a machine without its packages: the real CLI, run in a private mount namespace where
// linux.uml, the UML modules, ipvsadm, ip, arping and perl do not exist and apt-get is a fake that logs its
// calls (test/fixtures/lab-without-packages.sh: overlays with whiteouts and tmpfs, all gone when the namespace
// ends; the host's packages are never touched). Without --install the CLI must print the exact apt-get line and
// exit 2 without running apt-get; with --install it must run apt-get update and install, check again, and go
// on to boot the guest (here the fake's stand-in kernel, which exits at once). The lab's scratch directory is
// private to the fixture, so a lab kept from this checkout is not disturbed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import { requireRoot } from '../../harness/privileges.js';
import { REPO } from '../daemon/cli.js';

const SCRIPT = join(REPO, 'test', 'fixtures', 'lab-without-packages.sh');
const SCRATCH = join(REPO, '.lvskeep-test', 'lab-install');
const MNT = join(SCRATCH, 'mnt');
const LOG = join(SCRATCH, 'log');
const ALL = 'user-mode-linux ipvsadm iproute2 iputils-arping perl-base';

interface Run {
  code: number | null;
  out: string;
}

function labWithoutPackages(aptMode: 'install' | 'fail', args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.LVSKEEP_UML_BINARY;
    delete env.DEBIAN_FRONTEND;
    const argv = ['--mount', '--propagation', 'private', '--', 'bash', SCRIPT, MNT, LOG, aptMode, '--', process.execPath, '--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), 'lab', ...args];
    const child = spawn('unshare', argv, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const logOf = (name: string): string => (existsSync(join(LOG, name)) ? readFileSync(join(LOG, name), 'utf8') : '');

requireRoot('net/lab/install', ['ip', 'unshare', 'mount'])('lvskeep lab on a machine without user-mode-linux, ipvsadm, iproute2, arping, perl', () => {
  beforeEach(() => {
    rmSync(SCRATCH, { recursive: true, force: true });
    mkdirSync(MNT, { recursive: true });
    mkdirSync(LOG, { recursive: true });
  });

  it('without --install: prints the exact apt-get line, runs no apt-get, exits 2', async () => {
    const r = await labWithoutPackages('install', []);
    expect(r.out).toContain(`lvskeep lab: missing on this machine: ${ALL.split(' ').join(', ')}\n`);
    expect(r.out).toContain(`  install them with:  apt-get install -y --no-install-recommends ${ALL}\n`);
    expect(r.out).toContain('(or run lvskeep lab --install)');
    expect(r.code).toBe(2);
    expect(logOf('apt-get.log')).toBe('');
    expect(r.out).not.toContain('booting');
  }, 90_000);

  it('with --install: apt-get update, apt-get install of exactly the missing packages, a second check, then the boot', async () => {
    // The lab clears its keep directory before booting; in the fixture that is a private one, so a lab kept
    // from this checkout is not disturbed. A canary there (only if no lab is kept) shows it.
    const keep = join(REPO, '.lvskeep-test', 'lab-keep');
    const canary = existsSync(keep) ? undefined : join(keep, 'canary');
    if (canary) {
      mkdirSync(keep, { recursive: true });
      writeFileSync(canary, '');
    }
    const r = await labWithoutPackages('install', ['--install']).finally(() => {
      if (canary) expect(existsSync(canary), 'the host keep directory was touched').toBe(true);
      if (canary) rmSync(keep, { recursive: true, force: true });
    });
    expect(logOf('apt-get.log')).toBe(`update DEBIAN_FRONTEND=noninteractive\ninstall -y --no-install-recommends ${ALL} DEBIAN_FRONTEND=noninteractive\n`);
    expect(r.out).toContain(`lvskeep lab: installing ${ALL}\n`);
    // The second check found everything the install put in place, so the lab went on to boot the guest.
    expect(r.out).not.toContain('missing on this machine');
    expect(r.out).toContain('booting the user-mode-linux guest');
    expect(logOf('linux.uml.log')).toMatch(/^\/usr\/bin\/linux\.uml mem=\S+ rootfstype=hostfs /);
    // The stand-in kernel exits at once: the lab cannot run here, which is exit status 2.
    expect(r.code).toBe(2);
  }, 90_000);

  it('with --install and a failing apt-get: stops after apt-get update with its status, exits 2', async () => {
    const r = await labWithoutPackages('fail', ['--install']);
    expect(logOf('apt-get.log')).toBe('update DEBIAN_FRONTEND=noninteractive\n');
    expect(r.out).toContain('lvskeep lab: apt-get update failed (exit 100)');
    expect(r.out).not.toContain('booting');
    expect(r.code).toBe(2);
  }, 90_000);
});
