// The sync-daemon worker thread: it owns one IPVS generic netlink socket and runs GET/NEW/DEL_DAEMON there.
// The kernel executes a netlink request inside sendmsg, on the sending thread, and stopping a sync daemon
// (kthread_stop) can take hundreds of ms: here that stalls this thread only, never the VRRP timers.
// Safety rule (see proxy.ts): the socket is closed on this thread before the thread ends, on every path.
import { parentPort, workerData } from 'node:worker_threads';
import { createNetlinkBackend, type NetlinkBackend } from '../../../ipvs/netlink/netlink-backend.js';
import type { DaemonConfig } from '../../../ipvs/netlink/attrs.js';
import { openGenlSocket, type NlTransport } from '../../../ipvs/netlink/nl-socket.js';
import { CTL_OPEN, CTL_STOP, toWireError, type FromSyncWorker, type SyncRequest, type ToSyncWorker } from './protocol.js';

interface SyncWorkerData {
  control: SharedArrayBuffer;
  timeoutMs: number;
}

const port = parentPort;
if (!port) throw new Error('sync-daemon worker: not started as a worker thread');
const data = workerData as SyncWorkerData;
const ctl = new Int32Array(data.control);
let transport: NlTransport | undefined;
let backend: Promise<NetlinkBackend> | undefined;
let closed = false;

/** Close the socket (pending requests fail with ECLOSED), then tell the JS thread once libuv has closed its handles. */
function closeSocket(): void {
  const t = transport;
  transport = undefined;
  backend = undefined;
  t?.close();
  // The close callbacks of the socket's libuv handles run at the end of this loop iteration; a timer runs after.
  setTimeout(() => {
    if (transport) return;
    Atomics.store(ctl, CTL_OPEN, 0);
    Atomics.notify(ctl, CTL_OPEN);
  }, 0);
}

function open(): Promise<NetlinkBackend> {
  if (backend) return backend;
  // OPEN before looking at STOP; the JS thread sets STOP before looking at OPEN: one of us sees the other.
  Atomics.store(ctl, CTL_OPEN, 1);
  if (closed || Atomics.load(ctl, CTL_STOP) === 1) {
    closeSocket();
    return Promise.reject(Object.assign(new Error('sync-daemon worker is closing'), { code: 'ECLOSED' }));
  }
  const t = openGenlSocket();
  transport = t;
  const b = createNetlinkBackend({ transport: t, timeoutMs: data.timeoutMs });
  backend = b;
  // A failed open (no IPVS module yet) is tried again on the next request.
  b.catch(() => {
    if (backend === b) closeSocket();
  });
  return b;
}

async function run(req: SyncRequest): Promise<DaemonConfig[] | undefined> {
  const b = await open();
  if (req.op === 'start') await b.startDaemon(req.daemon);
  else if (req.op === 'stop') await b.stopDaemon(req.state);
  else return b.daemons();
  return undefined;
}

function close(): void {
  closed = true;
  closeSocket();
  port?.close(); // nothing else keeps the thread alive: it ends once the socket's handles are closed
}

port.on('message', (m: ToSyncWorker) => {
  if (m.t === 'close') {
    close();
    return;
  }
  const { id } = m;
  run(m).then(
    (value) => port.postMessage((value === undefined ? { t: 'res', id, ok: true } : { t: 'res', id, ok: true, value }) satisfies FromSyncWorker),
    (err: unknown) => port.postMessage({ t: 'res', id, ok: false, error: toWireError(err) } satisfies FromSyncWorker),
  );
});

// A bug here must not end the thread with the socket open: close it, say why, then end the thread.
process.on('uncaughtException', (err) => {
  closed = true;
  closeSocket();
  port.postMessage({ t: 'fatal', error: toWireError(err) } satisfies FromSyncWorker);
  setTimeout(() => process.exit(70), 5);
});
