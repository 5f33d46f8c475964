/**
 * The control socket with real Unix sockets in a temp directory (never /run): protocol over the wire, bounds,
 * stale/live socket handling, file modes, and the access model (a non-root peer is refused by the kernel).
 */
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerControlCommands } from '../../../src/control/cli.js';
import { connectError, ControlClientError, controlRequest } from '../../../src/control/client.js';
import { ControlError, MAX_REQUEST_LINE, type ControlHandlers, type StatusResult } from '../../../src/control/protocol.js';
import { createControlServer, type ControlServer } from '../../../src/control/server.js';
import { silentLogger } from '../../../src/log/logger.js';

const status: StatusResult = {
  version: '0.1.0',
  pid: process.pid,
  startedAt: 1000,
  now: 2000,
  vrrp: [{ name: 'VI_1', state: 'BACKUP', basePriority: 100, effectivePriority: 100, masterAddress: '192.0.2.2', lastChange: { at: 1500, reason: 'startup' }, faultReasons: [] }],
  vips: [],
  virtualServers: [],
  alerts: { pending: 0, sinks: [] },
};

const handlers: ControlHandlers = {
  status: async () => status,
  drain: async ({ vs, rs }) => {
    if (vs !== 'web') throw new ControlError('not-found', `no virtual server ${vs}`);
    return { virtualServer: vs, realServers: [rs] };
  },
  'step-down': async ({ instance }) => ({ steppedDown: instance ? [instance] : ['VI_1'] }),
};

/** Send raw bytes, collect response lines until `want` lines arrived or the server closed; bounded in time. */
function exchange(path: string, data: string | Buffer, want: number, timeoutMs = 5000): Promise<{ lines: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    let buf = '';
    const lines: unknown[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`exchange: ${lines.length}/${want} lines within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ lines, closed });
    };
    sock.on('error', () => undefined);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      if (lines.length >= want) finish(false);
    });
    sock.on('close', () => finish(true));
  });
}

/** An open connection that does nothing (holds a slot). */
function idleConnection(path: string): Promise<ReturnType<typeof connect>> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('control socket', () => {
  let dir: string;
  let path: string;
  let server: ControlServer | undefined;
  const others: Server[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-ctl-'));
    path = join(dir, 'run', 'lvskeep.sock');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const o of others.splice(0)) await new Promise((r) => o.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (extra: Partial<Parameters<typeof createControlServer>[0]> = {}): Promise<ControlServer> => {
    server = await createControlServer({ path, mode: 0o600, handlers, logger: silentLogger(), ...extra });
    return server;
  };

  it('creates the directory 0700 and the socket with the configured mode; close removes it', async () => {
    await start();
    expect((await stat(join(dir, 'run'))).mode & 0o777).toBe(0o700);
    const st = await lstat(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    await server!.close();
    await server!.close(); // idempotent
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    const err = await controlRequest(path, 'status', {}, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect((err as ControlClientError).message).toBe(`lvskeep is not running (no control socket at ${path})`);
  });

  it('answers requests through the client with validated results and error codes', async () => {
    await start();
    expect(await controlRequest(path, 'drain', { vs: 'web', rs: '198.51.100.11:80' })).toEqual({ virtualServer: 'web', realServers: ['198.51.100.11:80'] });
    expect(await controlRequest(path, 'status', {})).toEqual(status);
    const err = await controlRequest(path, 'drain', { vs: 'mail', rs: '198.51.100.11:25' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlClientError);
    expect(err).toMatchObject({ code: 'not-found', message: 'no virtual server mail' });
    const unsupported = await controlRequest(path, 'reload', {}).catch((e: unknown) => e);
    expect(unsupported).toMatchObject({ code: 'not-supported' });
  });

  it('answers pipelined requests on one connection in order', async () => {
    await start();
    const reqs = [1, 2, 3].map((id) => JSON.stringify({ id, cmd: 'step-down', args: { instance: `VI_${id}` } })).join('\n');
    const { lines } = await exchange(path, `${reqs}\n`, 3);
    expect(lines).toEqual([1, 2, 3].map((id) => ({ id, ok: true, result: { steppedDown: [`VI_${id}`] } })));
  });

  it('answers malformed input with an error and keeps serving the connection', async () => {
    await start();
    const { lines, closed } = await exchange(path, 'this is not json\n{"id":2}\n{"id":3,"cmd":"status"}\n', 3);
    expect(closed).toBe(false);
    expect(lines[0]).toMatchObject({ id: null, ok: false, error: { code: 'bad-json' } });
    expect(lines[1]).toMatchObject({ id: 2, ok: false, error: { code: 'bad-request' } });
    expect(lines[2]).toMatchObject({ id: 3, ok: true });
  });

  it('answers a client that half-closes after sending (socat, printf without newline)', async () => {
    await start();
    const halfClose = (data: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = connect({ path });
        let out = '';
        const t = setTimeout(() => reject(new Error('no answer within 3 s')), 3000);
        sock.on('connect', () => sock.end(data));
        sock.on('data', (d: Buffer) => (out += d.toString()));
        sock.on('close', () => {
          clearTimeout(t);
          resolve(out);
        });
        sock.on('error', reject);
      });
    expect(JSON.parse(await halfClose('{"id":1,"cmd":"step-down"}\n'))).toEqual({ id: 1, ok: true, result: { steppedDown: ['VI_1'] } });
    expect(JSON.parse(await halfClose('{"id":2,"cmd":"step-down"}'))).toEqual({ id: 2, ok: true, result: { steppedDown: ['VI_1'] } });
    expect(await halfClose('')).toBe('');
    await waitFor(() => server!.connectionCount() === 0, 'half-closed connections to be closed');
  });

  it('answers an oversize line (over 1 MiB, no newline) with line-too-long and hangs up; the server stays up', async () => {
    await start();
    const { lines, closed } = await exchange(path, Buffer.alloc(MAX_REQUEST_LINE + 1, 0x61), 2);
    expect(lines).toEqual([{ id: null, ok: false, error: { code: 'line-too-long', message: `request line longer than ${MAX_REQUEST_LINE} bytes` } }]);
    expect(closed).toBe(true);
    expect(await controlRequest(path, 'status', {})).toEqual(status);
  });

  it('refuses connections beyond maxConnections with busy, and accepts again when one closes', async () => {
    await start({ maxConnections: 4 });
    const held = await Promise.all([1, 2, 3, 4].map(() => idleConnection(path)));
    await waitFor(() => server!.connectionCount() === 4, '4 connections');
    const refused = await exchange(path, '', 1);
    expect(refused.lines[0]).toMatchObject({ ok: false, error: { code: 'busy' } });
    held[0]!.destroy();
    await waitFor(() => server!.connectionCount() === 3, 'a free slot');
    expect(await controlRequest(path, 'status', {})).toEqual(status);
    for (const h of held) h.destroy();
  });

  it('serves many concurrent clients, each getting its own answer', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    await start({
      maxConnections: 64,
      handlers: {
        drain: async ({ vs, rs }) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
          return { virtualServer: vs, realServers: [rs] };
        },
      },
    });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => controlRequest(path, 'drain', { vs: 'web', rs: `198.51.100.${i}:80` }, { timeoutMs: 10_000 })));
    expect(results.map((r) => r.realServers[0])).toEqual(Array.from({ length: 60 }, (_, i) => `198.51.100.${i}:80`));
    expect(maxInFlight).toBeGreaterThan(1);
    await waitFor(() => server!.connectionCount() === 0, 'clients to disconnect');
  });

  it('times out a request whose handler never finishes, and survives the client leaving mid-request', async () => {
    await start({ requestTimeoutMs: 200, handlers: { reload: () => new Promise(() => undefined), status: async () => status } });
    const err = await controlRequest(path, 'reload', {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout', message: 'reload: no result within 200 ms' });
    // A client that gives up first gets its own timeout; the server carries on.
    const early = await controlRequest(path, 'reload', {}, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(early).toMatchObject({ code: 'timeout' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await controlRequest(path, 'status', {})).toEqual(status);
  });

  it('closes idle connections', async () => {
    await start({ idleTimeoutMs: 150 });
    const s = await idleConnection(path);
    const started = Date.now();
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('idle connection still open after 3 s')), 3000).unref());
    await Promise.race([closed, late]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await waitFor(() => server!.connectionCount() === 0, 'the server to forget the idle connection');
  });

  it('replaces a stale socket left by a crashed daemon', async () => {
    await chmod(dir, 0o700);
    // A real crash: a process listens on the path and is SIGKILLed, leaving the socket file behind.
    const script = `require('node:fs').mkdirSync(${JSON.stringify(join(dir, 'run'))}, { recursive: true }); require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('crashing child did not exit within 10 s')), 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    expect((await lstat(path)).isSocket()).toBe(true);
    await start();
    expect(await controlRequest(path, 'status', {})).toEqual(status);
  });

  it('refuses to start when another process answers on the socket, and leaves it alone', async () => {
    await start();
    const first = server!;
    server = undefined;
    try {
      await expect(createControlServer({ path, mode: 0o600, handlers, logger: silentLogger() })).rejects.toThrow(
        `another lvskeep appears to be running: the control socket ${path} is in use (it accepts connections)`,
      );
      expect(await controlRequest(path, 'status', {})).toEqual(status);
    } finally {
      await first.close();
    }
  });

  it('refuses to start when the path is not a socket', async () => {
    await start();
    await server!.close();
    server = undefined;
    await writeFile(path, 'precious');
    await expect(start()).rejects.toThrow(`control socket path ${path} exists and is not a socket`);
    server = undefined;
  });

  it('a foreign listener on the path is detected as live too', async () => {
    await start();
    await server!.close();
    server = undefined;
    const other = createServer((s) => s.end());
    others.push(other);
    await new Promise<void>((r) => other.listen(path, () => r()));
    await expect(start()).rejects.toThrow('another lvskeep appears to be running');
    server = undefined;
  });

  it.runIf(process.getuid?.() === 0)('a peer that is neither root nor the owner is refused by the socket mode (EACCES)', async () => {
    await start();
    await chmod(dir, 0o711);
    await chmod(join(dir, 'run'), 0o711); // traversable, so the socket's own mode is what is tested
    const tryAsNobody = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const script = `const s = require('node:net').connect(${JSON.stringify(path)}); s.on('connect', () => { console.log('CONNECTED'); s.destroy(); }); s.on('error', (e) => console.log(e.code));`;
        const child = spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('child did not finish within 10 s'));
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve(out.trim());
        });
      });
    expect(await tryAsNobody()).toBe('EACCES');
    expect(connectError(Object.assign(new Error('x'), { code: 'EACCES' }), path).message).toBe(`permission denied on ${path}: run as root`);
    // The mode is the whole access model: opened up, the same peer gets in.
    await chmod(path, 0o666);
    expect(await tryAsNobody()).toBe('CONNECTED');
  });

  it('runs the CLI commands against the socket', async () => {
    await start();
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const run = async (...args: string[]): Promise<void> => {
      const program = new Command('lvskeep').exitOverride();
      registerControlCommands(program);
      await program.parseAsync(['node', 'lvskeep', ...args, '--socket', path]);
    };
    try {
      await run('drain', 'web', '198.51.100.11:80');
      await run('step-down', 'VI_7');
      await run('status', '--json');
      await run('status');
    } finally {
      write.mockRestore();
    }
    expect(out[0]).toBe('draining 198.51.100.11:80 in web\n');
    expect(out[1]).toBe('stepping down: VI_7\n');
    expect(JSON.parse(out[2]!)).toEqual(status);
    expect(out[3]).toContain('VI_1             BACKUP  priority 100, master 192.0.2.2');
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('the CLI reports a daemon that is not running with exit code 3 for status', async () => {
    const errs: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errs.push(String(chunk));
      return true;
    });
    const before = process.exitCode;
    try {
      const program = new Command('lvskeep').exitOverride();
      registerControlCommands(program);
      await program.parseAsync(['node', 'lvskeep', 'status', '--socket', path]);
      expect(process.exitCode).toBe(3);
    } finally {
      spy.mockRestore();
      process.exitCode = before;
    }
    expect(errs.join('')).toBe(`lvskeep: lvskeep is not running (no control socket at ${path})\n`);
  });
});
