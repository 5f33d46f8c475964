// runDaemon as systemd drives it, with its signals from an EventEmitter: an invalid config on SIGHUP is
// rejected (errors logged, daemon.reload_failed) and the running table stays; a valid one is applied.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../../src/control/client.js';
import { runDaemon } from '../../../src/daemon/run.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { formatState } from '../../../src/ipvs/save-format.js';
import { createLogger } from '../../../src/log/logger.js';

const CONFIG = (weight: number, socket = '/nonexistent/lvskeep.sock'): string => `
global:
  state_dir: ${dirname(socket)}/state
control:
  socket: ${socket}
metrics:
  enabled: false
virtual_servers:
  - address: 203.0.113.1:80
    real_servers:
      - address: 198.51.100.11:80
        weight: ${weight}
`;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A logger that keeps its JSON lines. `started()` counts 'lvskeep started': runDaemon logs it once start() is
 * done and installs its signal handlers in the same turn, so only after it may a test send a signal or a
 * control request (the control socket exists, and the table may be written, while the daemon is still
 * starting: a SIGTERM then was lost and the test hung; a request got 'not accepting requests (starting)').
 */
async function capturingLogger(): Promise<{ logger: Awaited<ReturnType<typeof createLogger>>; lines: Record<string, unknown>[]; started: () => number }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const logger = await createLogger({ level: 'info', destination: sink });
  return { logger, lines, started: () => lines.filter((l) => l.msg === 'lvskeep started').length };
}

describe('runDaemon lifecycle', () => {
  it('keeps the running config on an invalid SIGHUP, applies a valid one, stops on SIGTERM with exit 0', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-daemon-'));
    const path = join(dir, 'lvskeep.yaml');
    writeFileSync(path, CONFIG(2, join(dir, 'ctl', 'lvskeep.sock')));
    const { logger, lines, started } = await capturingLogger();
    const backend = new MemoryBackend();
    const signals = new EventEmitter();
    const weight = async (): Promise<string> => formatState(await backend.dump());
    const exit = runDaemon({ configPath: path, logger, signals, openBackend: () => Promise.resolve(backend), daemonDeps: { vrrpFactory: () => undefined } });

    await until('the start', () => started() === 1);
    await until('the first table', async () => (await weight()).includes('-w 2'));
    writeFileSync(path, CONFIG(2, join(dir, 'ctl', 'lvskeep.sock')).replace('weight: 2', 'weight: lots'));
    signals.emit('SIGHUP');
    await until('reload_failed', () => lines.some((l) => (l.event as { type?: string } | undefined)?.type === 'daemon.reload_failed'));
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('weight'))).toBe(true); // the error names the field
    expect(await weight()).toContain('-r 198.51.100.11:80 -m -w 2');

    writeFileSync(path, CONFIG(7, join(dir, 'ctl', 'lvskeep.sock')));
    signals.emit('SIGHUP');
    await until('the new weight', async () => (await weight()).includes('-w 7'));
    expect(lines.some((l) => (l.event as { type?: string } | undefined)?.type === 'daemon.reloaded')).toBe(true);

    const appliesBeforeStop = backend.applyCalls;
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(lines.some((l) => (l.event as { type?: string } | undefined)?.type === 'daemon.stopped')).toBe(true);
    expect(backend.applyCalls).toBe(appliesBeforeStop); // the table is left as it is: flush_on_stop is off
  });

  it('refuses to start on an invalid config with exit 1 and every error logged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-daemon-'));
    const path = join(dir, 'lvskeep.yaml');
    writeFileSync(path, 'virtual_servers:\n  - address: 203.0.113.1:80\n    schedular: rr\n');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = await createLogger({ level: 'info', destination: sink });
    const code = await runDaemon({ configPath: path, logger, signals: new EventEmitter(), openBackend: () => Promise.resolve(new MemoryBackend()) });
    expect(code).toBe(1);
    expect(lines.join('')).toMatch(/lvskeep\.yaml:3:5.*schedular/);
  });

  it('sets the director sysctls at start with director.sysctls: auto, but not in a dry run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-daemon-'));
    const path = join(dir, 'lvskeep.yaml');
    writeFileSync(path, `director:\n  sysctls: auto\n${CONFIG(1, join(dir, 'ctl.sock'))}`);
    const { logger, started } = await capturingLogger();
    for (const [n, dryRun] of [false, true].entries()) {
      const calls: number[] = [];
      const signals = new EventEmitter();
      const exit = runDaemon({
        configPath: path,
        logger,
        signals,
        dryRun,
        openBackend: () => Promise.resolve(new MemoryBackend()),
        daemonDeps: { vrrpFactory: () => undefined },
        prepareDirector: (c) => {
          calls.push(c.virtual_servers.length);
          return Promise.resolve({ dryRun: false, changes: [{ key: 'net/ipv4/ip_forward', from: '0', to: '1', why: 'NAT' }], unchanged: [] });
        },
      });
      await until('the start', () => started() === n + 1);
      signals.emit('SIGTERM');
      expect(await exit).toBe(0);
      expect(calls).toEqual(dryRun ? [] : [1]);
    }
  });

  it('an operator maintenance (control socket) survives a restart through the state file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-daemon-'));
    const path = join(dir, 'lvskeep.yaml');
    const socket = join(dir, 'ctl.sock');
    writeFileSync(path, CONFIG(4, socket));
    const { logger, started } = await capturingLogger();
    const backend = new MemoryBackend();
    const weight = async (): Promise<number | undefined> => (await backend.dump())[0]?.dests[0]?.weight;
    const run = (): { signals: EventEmitter; exit: Promise<number> } => {
      const signals = new EventEmitter();
      // The same table across both runs, as the kernel keeps it; closing it is the daemon's last act.
      const view = Object.assign(Object.create(backend) as MemoryBackend, { close: () => Promise.resolve() });
      return { signals, exit: runDaemon({ configPath: path, logger, signals, openBackend: () => Promise.resolve(view), daemonDeps: { vrrpFactory: () => undefined } }) };
    };

    const first = run();
    await until('the first start', () => started() === 1);
    await until('the first table', async () => (await weight()) === 4);
    const r = await controlRequest(socket, 'maintenance', { vs: 'tcp 203.0.113.1:80', rs: '198.51.100.11:80' });
    expect(r).toEqual({ virtualServer: '203.0.113.1:80', realServers: ['198.51.100.11:80'] });
    await until('weight 0', async () => (await weight()) === 0);
    first.signals.emit('SIGTERM');
    expect(await first.exit).toBe(0);

    const second = run();
    await until('the second start', () => started() === 2);
    const status = await controlRequest(socket, 'status', {});
    expect(status.virtualServers[0]?.realServers[0]).toMatchObject({ id: '198.51.100.11:80', status: 'maintenance', manual: 'maintenance', kernelWeight: 0 });
    second.signals.emit('SIGTERM');
    expect(await second.exit).toBe(0);
  });

  it('a SIGTERM while starting (here during startup_delay) stops the daemon at once with exit 0; nothing is started', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-daemon-'));
    const path = join(dir, 'lvskeep.yaml');
    writeFileSync(path, CONFIG(3, join(dir, 'ctl.sock')).replace('global:\n', 'global:\n  startup_delay: 1h\n'));
    const { logger, lines, started } = await capturingLogger();
    const backend = new MemoryBackend();
    const signals = new EventEmitter();
    const exit = runDaemon({ configPath: path, logger, signals, openBackend: () => Promise.resolve(backend), daemonDeps: { vrrpFactory: () => undefined } });
    await until('the startup_delay wait', () => lines.some((l) => l.msg === 'waiting startup_delay before starting'));
    // Without a handler of its own this would be a listener-less emit here, and process death under systemd.
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(started()).toBe(0);
    expect(backend.applyCalls).toBe(0);
    expect(lines.some((l) => l.msg === 'lvskeep stopping before it started')).toBe(true);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) expect(signals.listenerCount(sig)).toBe(0);
  });

  it('a SIGHUP while starting is not lost: the config is reloaded once the start is done', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-daemon-'));
    const path = join(dir, 'lvskeep.yaml');
    const withDelay = (w: number): string => CONFIG(w, join(dir ?? '', 'ctl.sock')).replace('global:\n', 'global:\n  startup_delay: 300ms\n');
    writeFileSync(path, withDelay(3));
    const { logger, lines, started } = await capturingLogger();
    const backend = new MemoryBackend();
    const signals = new EventEmitter();
    const exit = runDaemon({ configPath: path, logger, signals, openBackend: () => Promise.resolve(backend), daemonDeps: { vrrpFactory: () => undefined } });
    await until('the startup_delay wait', () => lines.some((l) => l.msg === 'waiting startup_delay before starting'));
    writeFileSync(path, withDelay(8));
    signals.emit('SIGHUP');
    await until('the start', () => started() === 1);
    await until('the reloaded weight', async () => formatState(await backend.dump()).includes('-w 8'));
    expect(lines.some((l) => (l.event as { type?: string } | undefined)?.type === 'daemon.reloaded')).toBe(true);
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
  });
});
