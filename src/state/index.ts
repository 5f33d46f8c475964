/** Persisted state across restarts: what the daemon imports. */
export { loadState, saveState, parseState, stateFilePath, STATE_FILE, type LoadResult } from './file.js';
export { applyPatch, manualPatch, manualToRestore, patchFromEvent, prunePatch, type ManualRestore, type StatePatch } from './patch.js';
export { emptyState, STATE_VERSION, type PersistedState } from './schema.js';
export { createStateWriter, type StateWriter, type StateWriterOptions } from './writer.js';
export { startStatePersistence, type StatePersistence, type StatePersistenceOptions } from './persistence.js';
