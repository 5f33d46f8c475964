/**
 * State persistence as the daemon plugs it in: load the file once at start, record health and VRRP changes
 * from the event bus, record operator actions when the control handlers apply them, write debounced, flush
 * on stop. The only adapter here; everything it calls is tested on its own.
 */
import type { EventBus } from '../events/bus.js';
import type { LvsEvent } from '../events/types.js';
import type { Logger } from '../log/logger.js';
import type { ManualAction } from '../pool/types.js';
import { loadState, type LoadResult } from './file.js';
import { manualPatch, manualToRestore, patchFromEvent, prunePatch, type ManualRestore } from './patch.js';
import { emptyState, type PersistedState } from './schema.js';
import { createStateWriter, type StateWriter, type WriterTimers } from './writer.js';

export interface StatePersistenceOptions {
  /** global.state_dir */
  dir: string;
  bus: EventBus<LvsEvent>;
  logger: Logger;
  /** Default 1000 ms: a burst of changes becomes one write. */
  debounceMs?: number;
  timers?: WriterTimers;
}

export interface StatePersistence {
  /** What the file held at start (empty when missing or ignored). */
  readonly loaded: PersistedState;
  readonly loadResult: LoadResult;
  /** Drains and maintenance to apply again, in file order. */
  readonly manualToRestore: ManualRestore[];
  readonly writer: StateWriter;
  /** Call after the pools accepted drain/maintenance/enable; `virtualServer` is the id events carry (vsId). */
  recordManual(virtualServer: string, realServers: readonly string[], action: ManualAction, reason?: string): void;
  /** Forget objects the (new) configuration no longer has: vsId -> real server ids, and VRRP instance names. */
  prune(virtualServers: Readonly<Record<string, readonly string[]>>, instances: readonly string[]): void;
  /** Unsubscribe and write what is pending. */
  stop(): Promise<void>;
}

export async function startStatePersistence(opts: StatePersistenceOptions): Promise<StatePersistence> {
  const loadResult = await loadState(opts.dir, { logger: opts.logger });
  const loaded = loadResult.kind === 'loaded' ? loadResult.state : emptyState();
  if (loadResult.kind === 'loaded') opts.logger.info({ file: loadResult.file, savedAt: new Date(loaded.savedAt).toISOString() }, 'loaded saved state');
  const now = opts.timers?.now ?? Date.now;
  const writer = createStateWriter({
    dir: opts.dir,
    debounceMs: opts.debounceMs ?? 1000,
    logger: opts.logger,
    initial: loaded,
    ...(opts.timers ? { timers: opts.timers } : {}),
  });
  const unsubscribe = opts.bus.on((e) => {
    const patch = patchFromEvent(e);
    if (patch) writer.update(patch);
  });
  return {
    loaded,
    loadResult,
    manualToRestore: manualToRestore(loaded),
    writer,
    recordManual: (vs, rss, action, reason) => writer.update(manualPatch(vs, rss, action, now(), reason)),
    prune: (vss, instances) => writer.update(prunePatch(writer.current(), vss, instances)),
    async stop() {
      unsubscribe();
      await writer.close();
    },
  };
}
