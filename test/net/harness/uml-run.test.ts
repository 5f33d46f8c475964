// Host-side checks of the UML runner itself (the kernel suite depends on it): the guest's exit status and
// output come back, env and cwd arrive intact, the modules the suites need are loaded, an init failure is
// reported as such, and a hung guest is killed by the timeout without leaving processes behind.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeIf } from '../../harness/privileges.js';
import { runInUml, SCRATCH_DIR, UmlRunError } from '../../harness/uml.js';

describeIf({ label: 'net/harness/uml-run', root: true, commands: ['linux.uml', 'perl'] })('UML runner', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it('returns the command exit status and output, with env and cwd as given and IPVS loaded', async () => {
    const script = 'echo "cwd=$PWD var=$LK_TEST_VAR"; echo to-stderr >&2; grep -oE "^(ip_vs_mh|ip_vs_ovf|veth|bridge) " /proc/modules | sort | tr -d " " | tr "\\n" ,; echo; exit 7';
    const live: string[] = [];
    const r = await runInUml({
      argv: ['bash', '-c', script],
      cwd: '/usr',
      env: { LK_TEST_VAR: "two words 'quoted'" },
      timeoutMs: 120_000,
      onOutput: (text) => live.push(text),
    });
    expect(r.exitCode).toBe(7);
    expect(live.join('')).toBe(r.output);
    expect(r.output).toContain("cwd=/usr var=two words 'quoted'");
    expect(r.output).toContain('to-stderr');
    expect(r.output).toContain('bridge,ip_vs_mh,ip_vs_ovf,veth,');
  });

  it('reports an init failure (no modules for the guest kernel) with exit status 125 and the reason', async () => {
    mkdirSync(SCRATCH_DIR, { recursive: true });
    const emptyModules = mkdtempSync(join(SCRATCH_DIR, 'no-modules-'));
    made.push(emptyModules);
    const r = await runInUml({ argv: ['true'], modulesDir: emptyModules, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(125);
    expect(r.output).toMatch(/lvskeep-uml-init: no UML modules for kernel/);
  });

  it('kills a hung guest at the timeout, by its PID, and says so', async () => {
    const err = await runInUml({ argv: ['sleep', '600'], timeoutMs: 8_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UmlRunError);
    const message = (err as Error).message;
    expect(message).toMatch(/timed out after 8 s/);
    const pid = Number(/pid (\d+)/.exec(message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
