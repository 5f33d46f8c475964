import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildUmlArgs, chooseUmlTempDir, INIT_SCRIPT, isVisibleInGuest, parseMemSize, renderJobScript, shellQuote } from '../../harness/uml.js';

/** Run a rendered job script with the host's bash, as the guest's init would. */
function runJob(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lk-job-'));
  try {
    const path = join(dir, 'job.sh');
    writeFileSync(path, script);
    return execFileSync('bash', [path], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('UML job script', () => {
  it('carries argv words and env values through bash unchanged, however awkward', () => {
    const awkward = [`it's`, 'a "b" $HOME `x` \\ \n', '', '*', '$(echo no)'];
    const script = renderJobScript({
      argv: ['node', '-e', 'process.stdout.write(JSON.stringify([process.cwd(), process.env.AWK, process.argv.slice(1)]))', ...awkward],
      cwd: '/',
      env: { AWK: awkward[1], SKIPPED: undefined },
    });
    const [cwd, env, args] = JSON.parse(runJob(script)) as [string, string, string[]];
    expect(cwd).toBe('/');
    expect(env).toBe(awkward[1]);
    expect(args).toEqual(awkward);
    expect(script).not.toContain('SKIPPED');
  });

  it('fails with 126 when the working directory is missing, instead of running elsewhere', () => {
    const script = renderJobScript({ argv: ['true'], cwd: '/nonexistent-lvskeep-dir' });
    expect(() => runJob(script)).toThrow(expect.objectContaining({ status: 126 }) as Error);
  });

  it('rejects empty argv, relative cwd, bad env names and NUL bytes', () => {
    expect(() => renderJobScript({ argv: [], cwd: '/' })).toThrow(/non-empty/);
    expect(() => renderJobScript({ argv: ['true'], cwd: 'rel' })).toThrow(/absolute/);
    expect(() => renderJobScript({ argv: ['true'], cwd: '/', env: { 'A-B': 'x' } })).toThrow(/A-B/);
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('UML command line', () => {
  it('boots hostfs read-write with our init, console on stdout and no stdin', () => {
    const args = buildUmlArgs({ initPath: INIT_SCRIPT, params: { LK_JOB: '/work/x/job.sh' }, umid: 'u1', umlDir: '/work/x' });
    expect(args.slice(0, 4)).toEqual(['mem=1024M', 'rootfstype=hostfs', 'rw', `init=${INIT_SCRIPT}`]);
    expect(args).toContain('LK_JOB=/work/x/job.sh');
    expect(args).toContain('umid=u1');
    expect(args.slice(-2)).toEqual(['con=null', 'con0=null,fd:1']);
  });

  it('refuses values the kernel command line would split or mangle', () => {
    expect(() => buildUmlArgs({ initPath: '/a b/init.sh' })).toThrow(/cannot carry/);
    expect(() => buildUmlArgs({ initPath: 'init.sh' })).toThrow(/absolute/);
    expect(() => buildUmlArgs({ initPath: '/i', params: { LK_OUT: '/my dir/out' } })).toThrow(/LK_OUT/);
    expect(() => buildUmlArgs({ initPath: '/i', params: { PATH: '/bin' } })).toThrow(/LK_/);
  });

  it('knows which host paths the guest can see past its own /tmp', () => {
    expect(isVisibleInGuest('/work/main/.lvskeep-test/x', '/work/main')).toBe(true);
    expect(isVisibleInGuest('/tmp/x', '/work/main')).toBe(false);
    expect(isVisibleInGuest('/tmp/ci/repo/.lvskeep-test', '/tmp/ci/repo')).toBe(true);
    expect(isVisibleInGuest('/tmp/ci/repo2', '/tmp/ci/repo')).toBe(false);
    expect(isVisibleInGuest('/tmpfoo', '/work')).toBe(true);
  });
});

describe('UML guest memory backing', () => {
  it('parses mem= sizes', () => {
    expect(parseMemSize('1024M')).toBe(1024 ** 3);
    expect(parseMemSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseMemSize('65536K')).toBe(64 * 1024 ** 2);
    expect(parseMemSize('4096')).toBe(4096);
    expect(() => parseMemSize('1T')).toThrow(/mem=1T/);
  });

  it('moves the memory file to disk only when /dev/shm is too small and no tempdir is set', () => {
    const memBytes = 1024 ** 3;
    const base = { memBytes, fallbackDir: '/work/main/.lvskeep-test/uml-x' };
    expect(chooseUmlTempDir({ ...base, env: {}, shmFreeBytes: 24 * 1024 ** 3 })).toBeUndefined();
    expect(chooseUmlTempDir({ ...base, env: {}, shmFreeBytes: 64 * 1024 ** 2 })).toBe(base.fallbackDir);
    expect(chooseUmlTempDir({ ...base, env: {}, shmFreeBytes: undefined })).toBe(base.fallbackDir);
    expect(chooseUmlTempDir({ ...base, env: { TMPDIR: '/big' }, shmFreeBytes: 0 })).toBeUndefined();
  });
});
