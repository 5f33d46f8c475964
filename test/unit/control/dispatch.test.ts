import { describe, expect, it } from 'vitest';
import { dispatchLine, type DispatchTimers } from '../../../src/control/dispatch.js';
import { ControlError, type ControlHandlers, type ControlResponse, type StatusResult } from '../../../src/control/protocol.js';

/** Timers that fire only when the test says so. */
function manualTimers(): DispatchTimers & { fireAll(): void; pending(): number } {
  const due = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (fn) => {
      const h = next++;
      due.set(h, fn);
      return h;
    },
    clearTimeout: (h) => {
      due.delete(h as number);
    },
    fireAll: () => {
      const fns = [...due.values()];
      due.clear();
      for (const fn of fns) fn();
    },
    pending: () => due.size,
  };
}

const drainOk: ControlHandlers = {
  drain: async ({ vs, rs }) => ({ virtualServer: vs, realServers: [rs] }),
};

async function respond(line: string, handlers: ControlHandlers = drainOk, timeoutMs = 1000): Promise<ControlResponse> {
  return (await dispatchLine(line, { handlers, timeoutMs })).response;
}

function errorOf(r: ControlResponse): { code: string; message: string } {
  if (r.ok) throw new Error(`expected an error response, got ${JSON.stringify(r)}`);
  return r.error;
}

describe('dispatchLine', () => {
  it('runs the handler with validated args and returns its result under the request id', async () => {
    const d = await dispatchLine(JSON.stringify({ id: 7, cmd: 'drain', args: { vs: 'web', rs: '198.51.100.11:80' } }), { handlers: drainOk, timeoutMs: 1000 });
    expect(d.cmd).toBe('drain');
    expect(d.response).toEqual({ id: 7, ok: true, result: { virtualServer: 'web', realServers: ['198.51.100.11:80'] } });
  });

  it('answers a line that is not JSON with bad-json and a null id', async () => {
    const r = await respond('{"id": 1, "cmd": ');
    expect(r.id).toBeNull();
    expect(errorOf(r).code).toBe('bad-json');
  });

  it('answers JSON of the wrong shape with bad-request, keeping a usable id', async () => {
    const r = await respond(JSON.stringify({ id: 'abc', cmd: 5 }));
    expect(r.id).toBe('abc');
    expect(errorOf(r)).toMatchObject({ code: 'bad-request' });
    expect(errorOf(r).message).toContain('cmd');
    expect((await respond('[1,2,3]')).id).toBeNull();
    expect(errorOf(await respond('"status"')).code).toBe('bad-request');
    expect(errorOf(await respond(JSON.stringify({ id: 1, cmd: 'status', extra: true }))).code).toBe('bad-request');
  });

  it('names unknown commands and lists the known ones', async () => {
    const e = errorOf(await respond(JSON.stringify({ id: 1, cmd: 'format-disk' })));
    expect(e.code).toBe('unknown-command');
    expect(e.message).toContain('"format-disk"');
    expect(e.message).toContain('step-down');
  });

  it('does not treat inherited object keys as commands', async () => {
    expect(errorOf(await respond(JSON.stringify({ id: 1, cmd: 'constructor' }))).code).toBe('unknown-command');
    expect(errorOf(await respond(JSON.stringify({ id: 1, cmd: '__proto__' }))).code).toBe('unknown-command');
  });

  it('answers a known command without handler with not-supported', async () => {
    expect(errorOf(await respond(JSON.stringify({ id: 1, cmd: 'reload' }))).code).toBe('not-supported');
  });

  it('rejects invalid args naming the field', async () => {
    const missing = errorOf(await respond(JSON.stringify({ id: 1, cmd: 'drain', args: { vs: 'web' } })));
    expect(missing.code).toBe('invalid-args');
    expect(missing.message).toContain('rs');
    const extra = errorOf(await respond(JSON.stringify({ id: 1, cmd: 'drain', args: { vs: 'web', rs: 'x', force: true } })));
    expect(extra.code).toBe('invalid-args');
    expect(extra.message).toContain('force');
    const wrongType = errorOf(await respond(JSON.stringify({ id: 1, cmd: 'drain', args: { vs: 'web', rs: 80 } })));
    expect(wrongType.code).toBe('invalid-args');
  });

  it('defaults missing args to {} for commands that take none', async () => {
    const r = await respond(JSON.stringify({ id: 1, cmd: 'reload' }), { reload: async () => ({ summary: 'nothing changed' }) });
    expect(r).toEqual({ id: 1, ok: true, result: { summary: 'nothing changed' } });
  });

  it('maps a ControlError to its code and any other failure (also a synchronous throw) to failed', async () => {
    const handlers: ControlHandlers = {
      'step-down': async ({ instance }) => {
        throw new ControlError('not-found', `no VRRP instance ${instance ?? ''}`);
      },
      enable: () => {
        throw new Error('pool is stopping');
      },
      maintenance: async () => Promise.reject(new Error('disk on fire')),
    };
    expect(errorOf(await respond(JSON.stringify({ id: 1, cmd: 'step-down', args: { instance: 'VI_9' } }), handlers))).toEqual({
      code: 'not-found',
      message: 'no VRRP instance VI_9',
    });
    expect(errorOf(await respond(JSON.stringify({ id: 2, cmd: 'enable', args: { vs: 'a', rs: 'b' } }), handlers))).toEqual({
      code: 'failed',
      message: 'enable: pool is stopping',
    });
    expect(errorOf(await respond(JSON.stringify({ id: 3, cmd: 'maintenance', args: { vs: 'a', rs: 'b' } }), handlers)).message).toBe('maintenance: disk on fire');
  });

  it('answers timeout when the handler outlives the deadline, and a late rejection is not unhandled', async () => {
    const timers = manualTimers();
    let rejectLate: (e: Error) => void = () => undefined;
    const handlers: ControlHandlers = { reload: () => new Promise((_, reject) => (rejectLate = reject)) };
    const pending = dispatchLine(JSON.stringify({ id: 4, cmd: 'reload' }), { handlers, timeoutMs: 5000, timers });
    await Promise.resolve();
    await Promise.resolve();
    expect(timers.pending()).toBe(1);
    timers.fireAll();
    const { response } = await pending;
    expect(errorOf(response)).toEqual({ code: 'timeout', message: 'reload: no result within 5000 ms' });
    rejectLate(new Error('finished failing after the deadline'));
    await new Promise((r) => setImmediate(r));
  });

  it('clears the deadline timer when the handler finishes first', async () => {
    const timers = manualTimers();
    await dispatchLine(JSON.stringify({ id: 1, cmd: 'drain', args: { vs: 'a', rs: 'b' } }), { handlers: drainOk, timeoutMs: 5000, timers });
    expect(timers.pending()).toBe(0);
  });

  it('reports a handler result that breaks the protocol as a daemon bug instead of sending it', async () => {
    const handlers = { drain: async () => ({ virtualServer: 'web' }) } as unknown as ControlHandlers; // deliberately wrong result
    const e = errorOf(await respond(JSON.stringify({ id: 1, cmd: 'drain', args: { vs: 'a', rs: 'b' } }), handlers));
    expect(e.code).toBe('failed');
    expect(e.message).toContain('invalid result');
    expect(e.message).toContain('realServers');
  });

  it('validates a full status result and fills defaults', async () => {
    const status: StatusResult = {
      version: '0.1.0',
      pid: 42,
      startedAt: 1000,
      now: 5000,
      vrrp: [{ name: 'VI_1', state: 'MASTER', basePriority: 150, effectivePriority: 140, masterAddress: '192.0.2.1', lastChange: { at: 2000, reason: 'master down timer' }, faultReasons: [] }],
      vips: [{ instance: 'VI_1', address: '203.0.113.1', interface: 'eth0', held: true }],
      virtualServers: [],
      alerts: { pending: 0, sinks: [] },
    };
    const { faultReasons: _unused, ...withoutDefaults } = status.vrrp[0]!;
    const r = await respond(JSON.stringify({ id: 9, cmd: 'status', args: {} }), {
      status: async () => ({ ...status, vrrp: [withoutDefaults], alerts: { pending: 0 } }),
    });
    expect(r).toEqual({ id: 9, ok: true, result: status });
  });

  it('passes the lvs_sync status of an instance through, and refuses a malformed one by field', async () => {
    const lvsSync = { wanted: 'master' as const, applied: 'backup' as const, interface: 'eth1', syncId: 51, failures: 2, lastError: 'EPERM' };
    const status: StatusResult = {
      version: '0.1.0',
      pid: 42,
      startedAt: 1000,
      now: 5000,
      vrrp: [{ name: 'VI_1', state: 'MASTER', basePriority: 150, effectivePriority: 150, masterAddress: null, lastChange: { at: 2000, reason: 'x' }, faultReasons: [], lvsSync }],
      vips: [],
      virtualServers: [],
      alerts: { pending: 0, sinks: [] },
    };
    const r = await respond(JSON.stringify({ id: 3, cmd: 'status', args: {} }), { status: async () => status });
    expect(r).toEqual({ id: 3, ok: true, result: status });
    const broken = { ...status, vrrp: [{ ...status.vrrp[0]!, lvsSync: { ...lvsSync, wanted: 'sideways' } }] } as unknown as StatusResult;
    const e = errorOf(await respond(JSON.stringify({ id: 4, cmd: 'status', args: {} }), { status: async () => broken }));
    expect(e.message).toContain('lvsSync');
  });
});
