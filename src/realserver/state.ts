/**
 * The real-server state file: the sysctl values found before lvskeep changed them, the VIPs it holds (and
 * whether it added each one), and links it brought up. `down` reads it to undo exactly what `up` did.
 * One file serves several VIPs (one systemd instance per VIP): sysctls are restored only when the last
 * held VIP goes.
 */
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';

import { errnoCode, errorMessage } from '../util/errors.js';
import type { RealserverMode } from './spec.js';

export const DEFAULT_STATE_DIR = '/var/lib/lvskeep';
export const STATE_FILE_NAME = 'realserver.json';

export interface HeldVip {
  address: string;
  prefix: number;
  dev: string;
  label?: string;
  mode: RealserverMode;
  /** false when the address was already there before `up`: `down` then leaves it in place. */
  added: boolean;
}

export interface HeldLink {
  name: string;
  /** What `down` undoes: `set-up` -> set it down again; `created` -> delete it. */
  action: 'set-up' | 'created';
}

export interface RealserverState {
  version: 1;
  /** Original values of the sysctls lvskeep changed, by key. */
  sysctls: Record<string, string>;
  vips: HeldVip[];
  links: HeldLink[];
}

export function emptyState(): RealserverState {
  return { version: 1, sysctls: {}, vips: [], links: [] };
}

export function isEmptyState(s: RealserverState): boolean {
  return Object.keys(s.sysctls).length === 0 && s.vips.length === 0 && s.links.length === 0;
}

export function stateFilePath(stateDir: string = DEFAULT_STATE_DIR): string {
  return join(stateDir, STATE_FILE_NAME);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and check the file's content; errors name the file and the field. */
export function parseState(text: string, file: string): RealserverState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${errorMessage(err)})`);
  }
  const bad = (field: string, what: string): Error => new Error(`${file}: ${field}: ${what}`);
  if (!isRecord(raw)) throw bad('(top level)', 'expected an object');
  if (raw.version !== 1) throw bad('version', `expected 1, found ${JSON.stringify(raw.version)}`);
  if (!isRecord(raw.sysctls)) throw bad('sysctls', 'expected an object of key: value');
  const sysctls: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.sysctls)) {
    if (!k.startsWith('net.') || typeof v !== 'string') throw bad(`sysctls.${k}`, 'expected a net.* key with a string value');
    sysctls[k] = v;
  }
  if (!Array.isArray(raw.vips)) throw bad('vips', 'expected a list');
  const vips = raw.vips.map((v: unknown, i): HeldVip => {
    const at = `vips[${i}]`;
    if (!isRecord(v)) throw bad(at, 'expected an object');
    if (typeof v.address !== 'string' || isIP(v.address) === 0) throw bad(`${at}.address`, 'expected an IP address');
    if (typeof v.prefix !== 'number' || !Number.isInteger(v.prefix) || v.prefix < 0 || v.prefix > 128) throw bad(`${at}.prefix`, 'expected 0..128');
    if (typeof v.dev !== 'string' || v.dev === '') throw bad(`${at}.dev`, 'expected an interface name');
    if (v.label !== undefined && typeof v.label !== 'string') throw bad(`${at}.label`, 'expected a string');
    if (v.mode !== 'dr' && v.mode !== 'tun') throw bad(`${at}.mode`, 'expected dr or tun');
    if (typeof v.added !== 'boolean') throw bad(`${at}.added`, 'expected true or false');
    const held: HeldVip = { address: v.address, prefix: v.prefix, dev: v.dev, mode: v.mode, added: v.added };
    if (typeof v.label === 'string') held.label = v.label;
    return held;
  });
  if (!Array.isArray(raw.links)) throw bad('links', 'expected a list');
  const links = raw.links.map((l: unknown, i): HeldLink => {
    if (!isRecord(l) || typeof l.name !== 'string' || (l.action !== 'set-up' && l.action !== 'created')) {
      throw bad(`links[${i}]`, 'expected { name, action: set-up|created }');
    }
    return { name: l.name, action: l.action };
  });
  return { version: 1, sysctls, vips, links };
}

export function serializeState(s: RealserverState): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

export interface StateStore {
  readonly file: string;
  /**
   * Run `fn` holding the store's lock: systemd starts one lvskeep-realserver@VIP unit per VIP, often in
   * parallel at boot, and two load-change-save cycles must not interleave (one would drop the other's VIP).
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  load(): Promise<RealserverState>;
  /** Atomic: a crash leaves the old or the new file, never half of one. An empty state removes the file. */
  save(state: RealserverState): Promise<void>;
}

const permissionHint = (err: unknown): string => (errnoCode(err) === 'EACCES' || errnoCode(err) === 'EPERM' ? ' (run as root)' : '');

/** True when `pid` names a live process (EPERM: alive but not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

export interface LockOptions {
  /** How long to wait for another lvskeep holding the lock; default 15 s. */
  waitMs?: number;
  pollMs?: number;
}

/**
 * A lock file created with O_EXCL holding the owner's PID. A lock whose owner is gone (crashed, killed) is
 * taken over; a live owner is waited for, at most `waitMs`, then the error names the PID.
 */
export async function withLockFile<T>(lockFile: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const waitMs = opts.waitMs ?? 15_000;
  const pollMs = opts.pollMs ?? 50;
  const deadline = Date.now() + waitMs;
  try {
    await mkdir(dirname(lockFile), { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new Error(`cannot lock ${lockFile}: ${errorMessage(err)}${permissionHint(err)}`, { cause: err });
  }
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o644);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw new Error(`cannot lock ${lockFile}: ${errorMessage(err)}${permissionHint(err)}`, { cause: err });
    }
    const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      await rm(lockFile, { force: true }); // stale: its owner is gone
      continue;
    }
    if (Date.now() > deadline) throw new Error(`cannot lock ${lockFile}: held by pid ${Number.isInteger(owner) ? owner : '?'} for more than ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

export function fileStateStore(file: string, lock: LockOptions = {}): StateStore {
  return {
    file,
    withLock: (fn) => withLockFile(`${file}.lock`, fn, lock),
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return emptyState();
        throw new Error(`cannot read state file ${file}: ${errorMessage(err)}${permissionHint(err)}`, { cause: err });
      }
      return parseState(text, file);
    },
    async save(state) {
      try {
        if (isEmptyState(state)) {
          await rm(file, { force: true });
          return;
        }
        await mkdir(dirname(file), { recursive: true, mode: 0o755 });
        const tmp = `${file}.tmp-${process.pid}`;
        await writeFile(tmp, serializeState(state), { mode: 0o644 });
        // fsync before rename so that after a power cut the new name never points at an empty file.
        const handle = await open(tmp, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, file);
      } catch (err) {
        throw new Error(`cannot write state file ${file}: ${errorMessage(err)}${permissionHint(err)}`, { cause: err });
      }
    },
  };
}

/** A state store in memory, for unit tests and dry runs. */
export function memoryStateStore(initial: RealserverState = emptyState(), file = '(memory)'): StateStore & { current(): RealserverState } {
  let state = structuredClone(initial);
  return {
    file,
    withLock: (fn) => fn(),
    load: () => Promise.resolve(structuredClone(state)),
    save: (s) => {
      state = structuredClone(s);
      return Promise.resolve();
    },
    current: () => structuredClone(state),
  };
}
