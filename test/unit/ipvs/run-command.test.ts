import { describe, expect, it } from 'vitest';
import { CommandError, execFileRunner } from '../../../src/ipvs/run-command.js';

// The thin adapter around execFile, exercised with harmless programs of the base system.
describe('execFileRunner', () => {
  it('passes stdin and returns stdout', async () => {
    expect(await execFileRunner('cat', [], { input: '-A -t 203.0.113.1:80 -s rr\n', timeoutMs: 5000 })).toEqual({ code: 0, stdout: '-A -t 203.0.113.1:80 -s rr\n', stderr: '' });
  });

  it('a non-zero exit is a result with its stderr, not an exception', async () => {
    expect(await execFileRunner('sh', ['-c', 'echo "Service not defined" >&2; exit 255'], { timeoutMs: 5000 })).toEqual({ code: 255, stdout: '', stderr: 'Service not defined\n' });
  });

  it('arguments are never interpreted by a shell', async () => {
    expect((await execFileRunner('echo', ['$(id)', ';', '|'], { timeoutMs: 5000 })).stdout).toBe('$(id) ; |\n');
  });

  it('a missing program rejects with ENOENT; a hung one is killed at the timeout', async () => {
    await expect(execFileRunner('/nonexistent/ipvsadm', ['-Ln'], { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'ENOENT' });
    const t0 = Date.now();
    const hung = execFileRunner('sleep', ['10'], { timeoutMs: 200 });
    await expect(hung).rejects.toBeInstanceOf(CommandError);
    await expect(hung).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'sleep 10: timed out after 200 ms' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a child that exits without reading stdin does not crash the caller (EPIPE is swallowed)', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    expect((await execFileRunner('true', [], { input: big, timeoutMs: 5000 })).code).toBe(0);
  });
});
