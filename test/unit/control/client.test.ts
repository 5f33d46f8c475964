import { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectError, ControlClientError, controlRequest } from '../../../src/control/client.js';

function errno(code: string): Error {
  return Object.assign(new Error(`connect ${code} /run/lvskeep/lvskeep.sock`), { code });
}

/** A socket that fails to connect with `code`, as the kernel would for a non-root user (root bypasses modes). */
function failingSocket(code: string): (path: string) => Socket {
  return () => {
    const s = new Socket();
    process.nextTick(() => s.emit('error', errno(code)));
    return s;
  };
}

describe('connectError', () => {
  const path = '/run/lvskeep/lvskeep.sock';
  it.each([
    ['ENOENT', 'not-running', `lvskeep is not running (no control socket at ${path})`],
    ['EACCES', 'permission', `permission denied on ${path}: run as root`],
    ['EPERM', 'permission', `permission denied on ${path}: run as root`],
  ])('%s -> %s', (code, kind, message) => {
    const e = connectError(errno(code), path);
    expect(e.code).toBe(kind);
    expect(e.message).toBe(message);
  });

  it('ECONNREFUSED says not running and hints at a leftover socket', () => {
    const e = connectError(errno('ECONNREFUSED'), path);
    expect(e.code).toBe('not-running');
    expect(e.message).toContain('lvskeep is not running');
    expect(e.message).toContain(path);
  });

  it('anything else names the socket and the cause', () => {
    const e = connectError(errno('ENOTDIR'), path);
    expect(e.code).toBe('connect');
    expect(e.message).toContain(path);
    expect(e.message).toContain('ENOTDIR');
  });
});

describe('controlRequest errors', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reports EACCES from connect as a permission problem (injected: root cannot be denied)', async () => {
    const err = await controlRequest('/run/lvskeep/lvskeep.sock', 'status', {}, { timeoutMs: 1000, connect: failingSocket('EACCES') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlClientError);
    expect((err as ControlClientError).message).toBe('permission denied on /run/lvskeep/lvskeep.sock: run as root');
  });

  it('reports a missing socket file as "not running" (real connect)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-client-'));
    const path = join(dir, 'missing.sock');
    const err = await controlRequest(path, 'reload', {}, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect((err as ControlClientError).code).toBe('not-running');
    expect((err as Error).message).toBe(`lvskeep is not running (no control socket at ${path})`);
  });

  it('times out on a connect that never completes', async () => {
    const hang = (): Socket => new Socket();
    const started = Date.now();
    const err = await controlRequest('/x.sock', 'status', {}, { timeoutMs: 50, connect: hang }).catch((e: unknown) => e);
    expect((err as ControlClientError).code).toBe('timeout');
    expect((err as Error).message).toBe('no connection from lvskeep on /x.sock within 50 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
