/**
 * A debounced state writer: many updates in a burst (a switch port dying takes many servers at once) become one
 * write after `debounceMs` of quiet, and a steady stream of updates still writes at least every `maxDelayMs`.
 * Writes never overlap. A failed write is logged and retried after `maxDelayMs`; the in-memory state stays current.
 */
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { saveState } from './file.js';
import { applyPatch, type StatePatch } from './patch.js';
import { emptyState, type PersistedState } from './schema.js';

export interface WriterTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StateWriterOptions {
  dir: string;
  debounceMs: number;
  logger: Logger;
  /** Longest time a change waits for the disk; default 10 x debounceMs. */
  maxDelayMs?: number;
  /** What loadState returned (so the first write keeps it); default empty. */
  initial?: PersistedState;
  timers?: WriterTimers;
  /** Tests replace the disk. */
  save?: (dir: string, state: PersistedState) => Promise<void>;
}

export interface StateWriter {
  update(patch: StatePatch): void;
  /** Write now if anything changed since the last write; resolves when written (or the write failed and was logged). */
  flush(): Promise<void>;
  /** The state as it is in memory (what the next write will contain). */
  current(): PersistedState;
  /** Flush, then refuse further updates (they are logged and dropped). */
  close(): Promise<void>;
}

const realTimers: WriterTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    // A pending state write must not keep a stopping process alive; stop() flushes explicitly.
    h.unref();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export function createStateWriter(opts: StateWriterOptions): StateWriter {
  const timers = opts.timers ?? realTimers;
  const save = opts.save ?? saveState;
  const maxDelayMs = opts.maxDelayMs ?? opts.debounceMs * 10;
  let state = opts.initial ?? emptyState();
  let serialized = JSON.stringify({ ...state, savedAt: 0 });
  let dirty = false;
  let dirtySince = 0;
  let timer: unknown;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const cancel = (): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  const schedule = (ms: number): void => {
    cancel();
    timer = timers.setTimeout(() => {
      timer = undefined;
      void enqueue();
    }, Math.max(0, ms));
  };

  const writeOnce = async (): Promise<void> => {
    if (!dirty) return;
    const snapshot: PersistedState = { ...state, savedAt: timers.now() };
    dirty = false;
    try {
      await save(opts.dir, snapshot);
    } catch (err) {
      // Keep the change pending; the next attempt is spaced out so a full disk is not hammered either.
      if (!dirty) dirtySince = timers.now();
      dirty = true;
      opts.logger.warn({ dir: opts.dir, err: errorMessage(err), retryInMs: maxDelayMs }, 'saving state failed; will retry');
      if (!closed && timer === undefined) schedule(maxDelayMs);
    }
  };
  // `chain` never rejects: writeOnce catches everything.
  const enqueue = (): Promise<void> => (chain = chain.then(writeOnce));

  return {
    update(patch) {
      if (closed) {
        opts.logger.warn({ dir: opts.dir }, 'state update after close dropped');
        return;
      }
      const next = applyPatch(state, patch);
      const text = JSON.stringify({ ...next, savedAt: 0 });
      if (text === serialized) return;
      state = next;
      serialized = text;
      const now = timers.now();
      if (!dirty) dirtySince = now;
      dirty = true;
      schedule(Math.min(opts.debounceMs, dirtySince + maxDelayMs - now));
    },
    flush() {
      cancel();
      return enqueue();
    },
    current: () => state,
    async close() {
      closed = true;
      cancel();
      await enqueue();
    },
  };
}
