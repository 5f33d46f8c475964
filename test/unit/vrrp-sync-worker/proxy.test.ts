// The sync-daemon proxy over a fake worker thread: request ids and answers, errors that keep errno/code across
// the boundary, timeouts, a worker that dies, and the close paths (asynchronous, and synchronous at process exit).
import { describe, expect, it } from 'vitest';
import { CTL_OPEN, CTL_STOP, type FromSyncWorker, type ToSyncWorker } from '../../../src/vrrp/runtime/sync-worker/protocol.js';
import { createSyncWorkerProxy, type SyncWorkerLike } from '../../../src/vrrp/runtime/sync-worker/proxy.js';
import { ManualTimers } from '../vrrp-runtime/fakes.js';

class FakeWorker implements SyncWorkerLike {
  readonly sent: ToSyncWorker[] = [];
  refs = 0;
  terminated = false;
  readonly ctl: Int32Array;
  private message: (m: unknown) => void = () => undefined;
  private error: (e: Error) => void = () => undefined;
  private exit: (code: number) => void = () => undefined;
  /** What the fake does when told to close; default: close the socket and end. */
  onClose: () => void = () => {
    Atomics.store(this.ctl, CTL_OPEN, 0);
    queueMicrotask(() => this.exit(0));
  };

  constructor(control: SharedArrayBuffer) {
    this.ctl = new Int32Array(control);
  }
  postMessage(m: ToSyncWorker): void {
    this.sent.push(m);
    if (m.t === 'close') this.onClose();
  }
  onMessage(fn: (m: unknown) => void): void {
    this.message = fn;
  }
  onError(fn: (err: Error) => void): void {
    this.error = fn;
  }
  onExit(fn: (code: number) => void): void {
    this.exit = fn;
  }
  ref(): void {
    this.refs++;
  }
  unref(): void {
    this.refs = 0;
  }
  terminate(): void {
    this.terminated = true;
  }
  answer(m: FromSyncWorker): void {
    this.message(m);
  }
  fail(e: Error): void {
    this.error(e);
  }
  die(code: number): void {
    this.exit(code);
  }
  lastId(): number {
    const r = this.sent.filter((m) => m.t === 'req').at(-1);
    if (!r || r.t !== 'req') throw new Error('no request sent');
    return r.id;
  }
}

function setup(opts: { requestTimeoutMs?: number; closeWaitMs?: number } = {}) {
  const timers = new ManualTimers();
  const workers: FakeWorker[] = [];
  const proxy = createSyncWorkerProxy({
    spawn: (control) => {
      const w = new FakeWorker(control);
      workers.push(w);
      return w;
    },
    timers,
    ...opts,
  });
  const worker = (): FakeWorker => {
    const w = workers.at(-1);
    if (!w) throw new Error('no worker spawned');
    return w;
  };
  return { timers, workers, proxy, worker };
}

const daemon = { state: 'master' as const, mcastIfn: 'i0', syncId: 42 };

describe('sync-daemon worker proxy', () => {
  it('spawns the worker on the first request and matches answers by id, in any order', async () => {
    const { proxy, workers, worker } = setup();
    expect(workers).toHaveLength(0);
    const list = proxy.daemons();
    const start = proxy.startDaemon(daemon);
    expect(workers).toHaveLength(1);
    const [r1, r2] = worker().sent;
    expect(r1).toMatchObject({ t: 'req', op: 'daemons' });
    expect(r2).toMatchObject({ t: 'req', op: 'start', daemon });
    if (r1?.t !== 'req' || r2?.t !== 'req') throw new Error('unreachable');
    expect(r1.id).not.toBe(r2.id);
    expect(worker().refs).toBeGreaterThan(0); // requests in flight keep the process alive
    worker().answer({ t: 'res', id: r2.id, ok: true });
    worker().answer({ t: 'res', id: r1.id, ok: true, value: [daemon] });
    await expect(start).resolves.toBeUndefined();
    await expect(list).resolves.toEqual([daemon]);
    expect(worker().refs).toBe(0); // idle: unref'd
  });

  it('keeps the errno and code of a kernel error (the controller tells ESRCH and ETIMEDOUT apart by them)', async () => {
    const { proxy, worker } = setup();
    const stop = proxy.stopDaemon('backup');
    worker().answer({ t: 'res', id: worker().lastId(), ok: false, error: { name: 'IpvsError', message: 'DEL_DAEMON backup: ESRCH', errno: 'ESRCH' } });
    await expect(stop).rejects.toMatchObject({ name: 'IpvsError', message: 'DEL_DAEMON backup: ESRCH', errno: 'ESRCH' });
  });

  it('times a request out with code ETIMEDOUT and ignores its late answer', async () => {
    const { proxy, worker, timers } = setup({ requestTimeoutMs: 1000 });
    const stop = proxy.stopDaemon('master');
    const caught = stop.catch((e: unknown) => e);
    const id = worker().lastId();
    await timers.advance(999);
    await timers.advance(1);
    expect(await caught).toMatchObject({ code: 'ETIMEDOUT' });
    worker().answer({ t: 'res', id, ok: true });
    const next = proxy.daemons();
    worker().answer({ t: 'res', id: worker().lastId(), ok: true, value: [] });
    await expect(next).resolves.toEqual([]);
  });

  it('a worker that fails or ends fails its requests and is replaced on the next request', async () => {
    const { proxy, workers, worker } = setup();
    const a = proxy.daemons();
    worker().answer({ t: 'fatal', error: { name: 'TypeError', message: 'bug' } });
    await expect(a).rejects.toMatchObject({ code: 'ESOCKET', message: expect.stringContaining('bug') as unknown });
    const b = proxy.daemons();
    expect(workers).toHaveLength(2);
    worker().fail(new Error('cannot load'));
    await expect(b).rejects.toMatchObject({ code: 'ESOCKET' });
    const c = proxy.daemons();
    expect(workers).toHaveLength(3);
    worker().die(1);
    await expect(c).rejects.toMatchObject({ code: 'ESOCKET' });
  });

  it('close() asks the worker to close its socket, waits for it to end, and fails what was pending', async () => {
    const { proxy, worker } = setup();
    const pending = proxy.daemons();
    const w = worker();
    Atomics.store(w.ctl, CTL_OPEN, 1);
    await proxy.close();
    expect(w.sent.at(-1)).toEqual({ t: 'close' });
    expect(Atomics.load(w.ctl, CTL_STOP)).toBe(1);
    expect(w.terminated).toBe(false);
    await expect(pending).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(proxy.daemons()).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('close() never terminates a worker whose socket is still open; it does terminate one that closed it', async () => {
    for (const socketClosed of [false, true]) {
      const { proxy, worker, timers } = setup({ closeWaitMs: 500 });
      void proxy.daemons().catch(() => undefined);
      const w = worker();
      Atomics.store(w.ctl, CTL_OPEN, 1);
      w.onClose = () => {
        if (socketClosed) Atomics.store(w.ctl, CTL_OPEN, 0);
      }; // ... but the thread does not end
      const closing = proxy.close();
      await timers.advance(500);
      await closing;
      expect(w.terminated).toBe(socketClosed);
      if (!socketClosed) {
        // Process exit still asks it and waits (bounded) for its socket.
        const before = w.sent.length;
        w.onClose = () => Atomics.store(w.ctl, CTL_OPEN, 0);
        expect(proxy.closeNow(100)).toBe(true);
        expect(w.sent.slice(before)).toEqual([{ t: 'close' }]);
      }
    }
  });

  it('closeNow() blocks until the worker reports its socket closed, bounded', () => {
    const { proxy, worker } = setup();
    void proxy.daemons().catch(() => undefined);
    const w = worker();
    Atomics.store(w.ctl, CTL_OPEN, 1);
    w.onClose = () => undefined; // a wedged worker: closeNow gives up after waitMs
    const t0 = Date.now();
    expect(proxy.closeNow(50)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(Atomics.load(w.ctl, CTL_STOP)).toBe(1);
    w.onClose = () => Atomics.store(w.ctl, CTL_OPEN, 0);
    expect(proxy.closeNow(1000)).toBe(true);
  });
});
