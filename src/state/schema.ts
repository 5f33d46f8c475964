/**
 * What lvskeep keeps across restarts, and its on-disk schema. Keys are the texts the daemon's events carry:
 * the virtual server's id (`tcp 203.0.113.1:80`, vsId of src/daemon/ids.ts) and the real server's endpoint
 * (`198.51.100.11:80`). Operator actions and pruning must use the same ids.
 * The file carries a version; a reader refuses versions newer than it knows rather than guessing.
 */
import { z } from 'zod';

export const STATE_VERSION = 1;

/** Milliseconds since the epoch, within what Date can represent. */
const time = z.number().finite().nonnegative().max(8.64e15);

export const healthEntrySchema = z.object({ state: z.enum(['up', 'down']), since: time, reason: z.string().optional() });
/** Operator state set with `lvskeep drain|maintenance`; absent means none (`enable` removes it). */
export const manualEntrySchema = z.object({ state: z.enum(['drain', 'maintenance']), since: time, reason: z.string().optional() });
export const realServerEntrySchema = z.object({ health: healthEntrySchema.optional(), manual: manualEntrySchema.optional() });
export const vrrpEntrySchema = z.object({ state: z.enum(['INIT', 'BACKUP', 'MASTER', 'FAULT']), since: time, reason: z.string().optional() });

export const persistedStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  /** Milliseconds since the epoch when the file was written. */
  savedAt: time,
  realServers: z.record(z.string(), z.record(z.string(), realServerEntrySchema)),
  vrrp: z.record(z.string(), vrrpEntrySchema),
});

export type HealthEntry = z.infer<typeof healthEntrySchema>;
export type ManualEntry = z.infer<typeof manualEntrySchema>;
export type RealServerEntry = z.infer<typeof realServerEntrySchema>;
export type VrrpEntry = z.infer<typeof vrrpEntrySchema>;
export type PersistedState = z.infer<typeof persistedStateSchema>;

export function emptyState(): PersistedState {
  return { version: STATE_VERSION, savedAt: 0, realServers: {}, vrrp: {} };
}
