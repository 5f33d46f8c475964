// The sync-daemon control of the VRRP process, as a SyncDaemonBackend whose netlink requests run on a worker
// thread (worker-main.ts): the kernel executes them inside sendmsg on the sending thread, and DEL_DAEMON/NEW_DAEMON
// can take hundreds of ms, which on this thread would make the VRRP timers fire that much late.
// Requests carry ids and a timeout of their own; a worker that dies fails what it had and is replaced on the
// next request.
// Safety: a worker thread torn down while its netlink socket has libuv handles open takes the whole process
// down (C++ terminate / abort in the native addon). So the worker closes its socket itself before it ends, and
// every way this thread can end the worker waits for that: close() asks and waits for the worker's exit;
// process exit (including process.exit after an uncaught error) runs closeNow(), which asks and blocks on a
// shared word until the worker says its socket is closed. terminate() is only used on a worker that said so.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../log/logger.js';
import { errorMessage } from '../../../util/errors.js';
import type { SyncDaemonBackend } from '../lvs-sync.js';
import { realRuntimeTimers, type RuntimeTimers } from '../timers.js';
import { CTL_OPEN, CTL_STOP, CTL_WORDS, fromWireError, isFromSyncWorker, type FromSyncWorker, type SyncRequest, type ToSyncWorker } from './protocol.js';
import type { DaemonConfig } from '../../../ipvs/netlink/attrs.js';

/** What the proxy uses of a worker thread; unit tests pass a fake. */
export interface SyncWorkerLike {
  postMessage(m: ToSyncWorker): void;
  onMessage(fn: (m: unknown) => void): void;
  onError(fn: (err: Error) => void): void;
  onExit(fn: (code: number) => void): void;
  ref(): void;
  unref(): void;
  terminate(): void;
}

export interface SyncWorkerProxyOptions {
  /** Starts a worker sharing `control` (CTL_WORDS Int32 words). */
  spawn(control: SharedArrayBuffer): SyncWorkerLike;
  /** Backstop per request (the controller has its own, shorter limits); default 35 s. */
  requestTimeoutMs?: number;
  /** How long close() waits for the worker to end; default 5 s. */
  closeWaitMs?: number;
  timers?: RuntimeTimers;
  logger?: Logger;
}

export type SyncWorkerProxy = SyncDaemonBackend & {
  close(): Promise<void>;
  /** Synchronous close for process exit: true once no worker has a socket open (or waitMs passed: false). */
  closeNow(waitMs?: number): boolean;
};

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

interface Pending {
  resolve(v: DaemonConfig[] | undefined): void;
  reject(e: Error): void;
  timer: unknown;
}

interface Live {
  w: SyncWorkerLike;
  ctl: Int32Array;
  exited: Promise<void>;
}

/** Proxies alive in this process: process exit closes their workers' sockets first (see the header). */
const live = new Set<SyncWorkerProxy>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.closeNow();
  });
}

export function createSyncWorkerProxy(opts: SyncWorkerProxyOptions): SyncWorkerProxy {
  const timers = opts.timers ?? realRuntimeTimers;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let worker: Live | undefined;
  /** A worker close() gave up waiting for, its socket still open. */
  let lingering: Live | undefined;
  let closed = false;

  const failAll = (err: Error): void => {
    for (const [id, p] of [...pending]) {
      pending.delete(id);
      timers.clearTimeout(p.timer);
      p.reject(err);
    }
  };

  const idle = (): void => {
    if (pending.size === 0) worker?.w.unref();
  };

  const spawn = (): Live => {
    const control = new SharedArrayBuffer(CTL_WORDS * Int32Array.BYTES_PER_ELEMENT);
    const w = opts.spawn(control);
    let exitedResolve: () => void = () => undefined;
    const me: Live = { w, ctl: new Int32Array(control), exited: new Promise<void>((r) => (exitedResolve = r)) };
    const gone = (why: Error): void => {
      if (worker !== me) return;
      worker = undefined;
      failAll(why);
    };
    w.onMessage((m) => {
      if (!isFromSyncWorker(m)) return;
      if (m.t === 'fatal') {
        opts.logger?.error({ err: m.error.message }, 'IPVS sync-daemon worker failed; it is restarted on the next request');
        gone(codedError(`sync-daemon worker failed: ${m.error.message}`, 'ESOCKET'));
        return;
      }
      settle(m);
    });
    w.onError((err) => {
      opts.logger?.error({ err: errorMessage(err) }, 'IPVS sync-daemon worker error; it is restarted on the next request');
      gone(codedError(`sync-daemon worker: ${errorMessage(err)}`, 'ESOCKET'));
    });
    w.onExit((code) => {
      exitedResolve();
      if (worker === me && !closed) opts.logger?.warn({ code }, 'IPVS sync-daemon worker ended; it is restarted on the next request');
      gone(codedError(`sync-daemon worker ended (code ${code})`, closed ? 'ECLOSED' : 'ESOCKET'));
    });
    w.unref();
    installExitHook();
    return me;
  };

  const settle = (m: Extract<FromSyncWorker, { t: 'res' }>): void => {
    const p = pending.get(m.id);
    if (!p) return; // answer to a request that timed out
    pending.delete(m.id);
    timers.clearTimeout(p.timer);
    idle();
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWireError(m.error));
  };

  const request = (req: SyncRequest): Promise<DaemonConfig[] | undefined> => {
    if (closed) return Promise.reject(codedError('IPVS sync-daemon control is closed', 'ECLOSED'));
    worker ??= spawn();
    const w = worker.w;
    const id = nextId++;
    const ms = opts.requestTimeoutMs ?? 35_000;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        if (!pending.delete(id)) return;
        idle();
        reject(codedError(`sync-daemon worker: no answer to ${req.op} within ${ms} ms`, 'ETIMEDOUT'));
      }, ms);
      pending.set(id, { resolve, reject, timer });
      w.ref(); // a request in flight keeps the process alive, an idle worker does not
      w.postMessage({ t: 'req', id, ...req });
    });
  };

  const proxy: SyncWorkerProxy = {
    async startDaemon(d) {
      await request({ op: 'start', daemon: d });
    },
    async stopDaemon(state) {
      await request({ op: 'stop', state });
    },
    async daemons() {
      return (await request({ op: 'daemons' })) ?? [];
    },

    async close() {
      if (closed) return;
      closed = true;
      const me = worker;
      if (!me) {
        live.delete(proxy);
        return;
      }
      Atomics.store(me.ctl, CTL_STOP, 1);
      me.w.postMessage({ t: 'close' });
      let waited: unknown;
      const timedOut = await Promise.race([
        me.exited.then(() => false),
        new Promise<boolean>((r) => (waited = timers.setTimeout(() => r(true), opts.closeWaitMs ?? 5_000))),
      ]);
      timers.clearTimeout(waited);
      worker = undefined;
      failAll(codedError('IPVS sync-daemon control closed', 'ECLOSED'));
      if (!timedOut || Atomics.load(me.ctl, CTL_OPEN) === 0) {
        if (timedOut) me.w.terminate();
        live.delete(proxy);
        return;
      }
      // Ending it now could take the process down; left alone it cannot keep the process alive, and process
      // exit still waits for its socket (closeNow through the exit hook).
      opts.logger?.error('IPVS sync-daemon worker did not close its netlink socket in time; leaving it');
      lingering = me;
      me.w.unref();
    },

    closeNow(waitMs = 2_000) {
      const me = worker ?? lingering;
      if (!me) return true;
      Atomics.store(me.ctl, CTL_STOP, 1);
      me.w.postMessage({ t: 'close' });
      const deadline = Date.now() + waitMs;
      for (let left = waitMs; Atomics.load(me.ctl, CTL_OPEN) === 1 && left > 0; left = deadline - Date.now()) Atomics.wait(me.ctl, CTL_OPEN, 1, left);
      return Atomics.load(me.ctl, CTL_OPEN) === 0;
    },
  };
  live.add(proxy);
  return proxy;
}

/**
 * worker-main.js from dist. Under tsx (tests, development) worker-main.ts, through a small ESM module that
 * registers tsx in the worker first: loader hooks of the parent thread do not apply to a worker's entry.
 */
export function syncWorkerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker-main.js', import.meta.url);
  const entry = new URL('./worker-main.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** A real worker thread; `timeoutMs` bounds each netlink request there. */
export function spawnSyncWorker(timeoutMs: number): (control: SharedArrayBuffer) => SyncWorkerLike {
  return (control) => {
    const w = new Worker(syncWorkerEntry(), { workerData: { control, timeoutMs } });
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (fn) => void w.on('message', fn),
      onError: (fn) => void w.on('error', fn),
      onExit: (fn) => void w.on('exit', fn),
      ref: () => w.ref(),
      unref: () => w.unref(),
      terminate: () => void w.terminate(),
    };
  };
}
