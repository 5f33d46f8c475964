// Adapters that observe tracked objects and report up/down: interface link state (read from
// /sys/class/net/<if>/operstate, which `ip netns exec` remounts per namespace; watched in link-watch.ts) and
// track scripts (run periodically, never overlapping themselves, killed with their process group on timeout,
// rise/fall applied).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

import { scriptSpawnOptions, type ScriptUser } from '../../util/script-process.js';
import type { RuntimeTimers } from './timers.js';
import { realRuntimeTimers } from './timers.js';

export type UpDownListener = (name: string, up: boolean, detail: string) => void;

export interface Stoppable {
  stop(): void;
}

/** operstate "up"; "unknown" is what loopback, dummy and some tunnels report while working. Pure. */
export function operstateIsUp(text: string | undefined): boolean {
  const s = (text ?? '').trim();
  return s === 'up' || s === 'unknown';
}

export async function readOperstate(ifname: string): Promise<string | undefined> {
  try {
    return await readFile(`/sys/class/net/${ifname}/operstate`, 'utf8');
  } catch {
    return undefined; // no such interface (yet): down
  }
}

export interface TrackScript {
  name: string;
  command: readonly string[];
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  /** Run as this user instead of the daemon's. */
  user?: ScriptUser;
}

export type ScriptRunner = (argv: readonly string[], timeoutMs: number, user?: ScriptUser) => Promise<{ ok: boolean; detail: string }>;

/** Spawn without a shell in its own process group, with a clean environment; on timeout the whole group is killed. */
export const spawnScriptRunner: ScriptRunner = (argv, timeoutMs, user) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      resolve({ ok: false, detail: 'empty command' });
      return;
    }
    const child = spawn(file, args, { ...scriptSpawnOptions({}, user), stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `${file}: ${err.message}` });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true, detail: 'exit 0' } : { ok: false, detail: code !== null ? `exit ${code}` : `signal ${signal ?? '?'}` });
    });
  });

/** rise/fall: `rise` successes in a row make it up, `fall` failures in a row make it down. Pure. */
export function riseFall(prev: { up: boolean; streak: number }, ok: boolean, rise: number, fall: number): { up: boolean; streak: number } {
  if (ok === prev.up) return { up: prev.up, streak: 0 };
  const streak = prev.streak + 1;
  return streak >= (ok ? rise : fall) ? { up: ok, streak: 0 } : { up: prev.up, streak };
}

/** Run each script every intervalMs after the previous run ended; starts as up (keepalived's initial "OK"). */
export function runTrackScripts(
  scripts: readonly TrackScript[],
  onChange: UpDownListener,
  opts: { runner?: ScriptRunner; timers?: RuntimeTimers } = {},
): Stoppable {
  const timers = opts.timers ?? realRuntimeTimers;
  const runner = opts.runner ?? spawnScriptRunner;
  let stopped = false;
  const handles = new Set<unknown>();
  for (const s of scripts) {
    let st = { up: true, streak: 0 };
    const tick = (): void => {
      void runner(s.command, s.timeoutMs, s.user).then((r) => {
        if (stopped) return;
        const next = riseFall(st, r.ok, s.rise, s.fall);
        if (next.up !== st.up) onChange(s.name, next.up, `track script ${s.name}: ${r.detail}`);
        st = next;
        const h = timers.setTimeout(() => {
          handles.delete(h);
          tick();
        }, s.intervalMs);
        handles.add(h);
      });
    };
    tick();
  }
  return {
    stop(): void {
      stopped = true;
      for (const h of handles) timers.clearTimeout(h);
      handles.clear();
    },
  };
}
