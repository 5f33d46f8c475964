// Messages between the VRRP process's JS thread and the sync-daemon worker thread (worker-main.ts), and the
// shared control words both sides use for the exit hand-shake (see proxy.ts: a worker thread must never be torn
// down while its netlink socket is open).
import type { DaemonConfig } from '../../../ipvs/netlink/attrs.js';

export type SyncRequest = { op: 'start'; daemon: DaemonConfig } | { op: 'stop'; state: DaemonConfig['state'] } | { op: 'daemons' };

export type ToSyncWorker = ({ t: 'req'; id: number } & SyncRequest) | { t: 'close' };

/** An error as it crosses the thread boundary: the controller reads `errno` (IpvsError) and `code` (timeouts). */
export interface WireError {
  name: string;
  message: string;
  errno?: string;
  code?: string;
}

export type FromSyncWorker =
  | { t: 'res'; id: number; ok: true; value?: DaemonConfig[] }
  | { t: 'res'; id: number; ok: false; error: WireError }
  /** The worker hit a bug: it closed its socket and ends now. */
  | { t: 'fatal'; error: WireError };

/** Index in the shared Int32Array: 1 while the worker has a netlink socket open (or is opening one). */
export const CTL_OPEN = 0;
/** Index in the shared Int32Array: set to 1 by the JS thread; the worker then never opens a socket again. */
export const CTL_STOP = 1;
export const CTL_WORDS = 2;

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const w: WireError = { name: err.name, message: err.message };
  const errno = (err as { errno?: unknown }).errno;
  const code = (err as { code?: unknown }).code;
  if (typeof errno === 'string') w.errno = errno;
  if (typeof code === 'string') w.code = code;
  return w;
}

/** An Error carrying the same name, message, `errno` and `code` as the one the worker caught. */
export function fromWireError(w: WireError): Error {
  const e = new Error(w.message) as Error & { errno?: string; code?: string };
  e.name = w.name;
  if (w.errno !== undefined) e.errno = w.errno;
  if (w.code !== undefined) e.code = w.code;
  return e;
}

export function isFromSyncWorker(m: unknown): m is FromSyncWorker {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { t?: unknown }).t;
  if (t === 'fatal') return typeof (m as { error?: unknown }).error === 'object';
  return t === 'res' && typeof (m as { id?: unknown }).id === 'number';
}
