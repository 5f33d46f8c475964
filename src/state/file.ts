/**
 * The state file: `<state_dir>/state.json`, written atomically (temp file in the same directory, fsync, rename,
 * fsync of the directory) so that after a crash or power loss it holds either the old or the new content,
 * never a mix. A file that cannot be used (corrupt, wrong shape, newer version) is reported and ignored: the
 * daemon then starts as on a first run instead of failing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { persistedStateSchema, STATE_VERSION, type PersistedState } from './schema.js';

export const STATE_FILE = 'state.json';
const TEMP_PREFIX = `${STATE_FILE}.tmp-`;

export function stateFilePath(dir: string): string {
  return join(dir, STATE_FILE);
}

export type LoadResult =
  | { kind: 'loaded'; file: string; state: PersistedState }
  | { kind: 'missing'; file: string }
  /** The file exists but is not used; `problem` says why. */
  | { kind: 'ignored'; file: string; problem: string };

/** Parse and check the text of a state file. Pure. */
export function parseState(text: string, file: string): LoadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: 'ignored', file, problem: `not valid JSON (${errorMessage(err)})` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'ignored', file, problem: 'not a JSON object' };
  const version = (raw as { version?: unknown }).version;
  if (typeof version !== 'number' || !Number.isInteger(version)) return { kind: 'ignored', file, problem: 'no integer "version" field' };
  if (version > STATE_VERSION) {
    return { kind: 'ignored', file, problem: `written by a newer lvskeep (state version ${version}; this one reads up to ${STATE_VERSION})` };
  }
  if (version < 1) return { kind: 'ignored', file, problem: `unknown state version ${version}` };
  const parsed = persistedStateSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : '(top)';
    return { kind: 'ignored', file, problem: `field ${where}: ${first?.message ?? 'invalid'}` };
  }
  return { kind: 'loaded', file, state: parsed.data };
}

export interface LoadOptions {
  /** Gets a warning naming the file and the problem when the file is ignored. */
  logger?: Logger;
}

/** Never throws: an unreadable file is `ignored` with the reason. */
export async function loadState(dir: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const file = stateFilePath(dir);
  let result: LoadResult;
  try {
    result = parseState(await readFile(file, 'utf8'), file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { kind: 'missing', file };
    result = { kind: 'ignored', file, problem: `cannot read it (${errorMessage(err)})` };
  }
  if (result.kind === 'ignored') {
    opts.logger?.warn({ file, problem: result.problem }, `state file ${file} ignored: ${result.problem}; starting without saved state`);
  }
  return result;
}

export interface SaveHooks {
  /** Called after the temp file is written and synced, before the rename (tests simulate a crash here). */
  beforeRename?: (tempFile: string) => Promise<void> | void;
}

/**
 * Write `state` atomically. Creates `dir` (0700) when missing. Rejects with an error naming the file on
 * failure; the previous file is then untouched.
 */
export async function saveState(dir: string, state: PersistedState, hooks: SaveHooks = {}): Promise<void> {
  const file = stateFilePath(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await removeLeftovers(dir);
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  const text = `${JSON.stringify(state, null, 1)}\n`;
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeRename?.(temp);
    await rename(temp, file);
    renamed = true;
    await syncDir(dir);
  } catch (err) {
    if (!renamed) await unlink(temp).catch(() => undefined);
    throw new Error(`cannot save state to ${file}: ${errorMessage(err)}`);
  }
}

/** Makes the rename itself durable. Some file systems refuse fsync on a directory; nothing more can be done there. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'ENOTSUP') throw err;
  } finally {
    await handle.close();
  }
}

/** Temp files of a run that died between write and rename: never the state, just litter. */
async function removeLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(TEMP_PREFIX)).map((n) => unlink(join(dir, n)).catch(() => undefined)));
}
