import { describe, expect, it } from 'vitest';
import { parseKeepCommand, pendingCommandId } from '../../../src/lab/keep.js';
import { aptInstallLine, checkRequirements, ensurePrerequisites, missingPackages, type HostProbe } from '../../../src/lab/prereqs.js';

describe('lab prerequisites', () => {
  it('names each missing package once, in one apt-get line', () => {
    const reqs = checkRequirements({ onPath: (c) => c === 'ip' || c === 'perl', exists: () => false });
    const pkgs = missingPackages(reqs);
    expect(pkgs).toEqual(['user-mode-linux', 'ipvsadm', 'iputils-arping']);
    expect(aptInstallLine(pkgs)).toBe('apt-get install -y --no-install-recommends user-mode-linux ipvsadm iputils-arping');
  });

  it('nothing is missing on a prepared machine', () => {
    expect(missingPackages(checkRequirements({ onPath: () => true, exists: () => true }))).toEqual([]);
  });
});

describe('lab prerequisites: check, then (with --install) install and check again', () => {
  /** A host where `present` names what exists; the fake installer adds what `installs` provides. */
  function host(present: string[], installs: Record<string, string[]> = {}, exit: Record<string, number> = {}) {
    const have = new Set(present);
    const ran: string[] = [];
    const printed: string[] = [];
    const probe: HostProbe = { onPath: (c) => have.has(c), exists: (p) => have.has(p) };
    const run = (argv: readonly string[]): Promise<number> => {
      ran.push(argv.join(' '));
      const code = exit[argv[1] ?? ''] ?? 0;
      if (code === 0 && argv[1] === 'install') for (const pkg of argv.slice(4)) for (const thing of installs[pkg] ?? []) have.add(thing);
      return Promise.resolve(code);
    };
    return { deps: { probe, run, out: (t: string) => void printed.push(t) }, ran, printed: () => printed.join('') };
  }
  const BARE = ['ip', 'perl'];
  const UML = ['linux.uml', '/usr/lib/uml/modules'];

  it('without --install: prints the exact apt-get line and runs nothing', async () => {
    const h = host(BARE);
    expect(await ensurePrerequisites(false, h.deps)).toBe(false);
    expect(h.ran).toEqual([]);
    expect(h.printed()).toContain('  install them with:  apt-get install -y --no-install-recommends user-mode-linux ipvsadm iputils-arping\n');
    expect(h.printed()).toContain('(or run lvskeep lab --install)');
  });

  it('with --install: apt-get update, then install of exactly the missing packages, then a second check that passes', async () => {
    const h = host(BARE, { 'user-mode-linux': UML, ipvsadm: ['ipvsadm'], 'iputils-arping': ['arping'] });
    expect(await ensurePrerequisites(true, h.deps)).toBe(true);
    expect(h.ran).toEqual(['apt-get update', 'apt-get install -y --no-install-recommends user-mode-linux ipvsadm iputils-arping']);
    expect(h.printed()).not.toContain('missing on this machine');
  });

  it('with --install: what the install did not provide is named after the second check', async () => {
    const h = host(BARE, { 'user-mode-linux': UML, ipvsadm: ['ipvsadm'] });
    expect(await ensurePrerequisites(true, h.deps)).toBe(false);
    expect(h.printed()).toContain('still missing after apt-get install');
    expect(h.printed()).toContain('missing on this machine: iputils-arping\n');
  });

  it('with --install: a failing apt-get stops there, with its exit status', async () => {
    const h = host(BARE, {}, { update: 100 });
    expect(await ensurePrerequisites(true, h.deps)).toBe(false);
    expect(h.ran).toEqual(['apt-get update']);
    expect(h.printed()).toContain('apt-get update failed (exit 100)');
  });

  it('with --install on a prepared machine: nothing is run', async () => {
    const h = host([...BARE, ...UML, 'ipvsadm', 'arping']);
    expect(await ensurePrerequisites(true, h.deps)).toBe(true);
    expect(h.ran).toEqual([]);
  });
});

describe('kept lab command files', () => {
  it('recognises only command files, not results or temporaries', () => {
    expect(pendingCommandId('cmd-ab12.json')).toBe('ab12');
    expect(pendingCommandId('cmd-ab12.out.json')).toBeUndefined();
    expect(pendingCommandId('.ab12.tmp')).toBeUndefined();
    expect(pendingCommandId('stop')).toBeUndefined();
  });

  it('validates a command and names the file and field on error', () => {
    expect(parseKeepCommand('{"ns":"d1","argv":["ipvsadm","-Ln"]}', 'f')).toEqual({ ns: 'd1', argv: ['ipvsadm', '-Ln'] });
    expect(() => parseKeepCommand('{"ns":"../x","argv":["a"]}', 'cmd-1.json')).toThrow(/cmd-1.json: ns/);
    expect(() => parseKeepCommand('{"ns":"d1","argv":[]}', 'cmd-2.json')).toThrow(/cmd-2.json: argv/);
    expect(() => parseKeepCommand('nope', 'cmd-3.json')).toThrow(/cmd-3.json: not JSON/);
  });
});
