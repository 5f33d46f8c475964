/**
 * Script checker: run argv (never through a shell) with a clean environment and a deadline. spawn rather than
 * execFile because the child gets its own process group: on timeout the whole group is killed, so a script's
 * own children (curl, sleep) cannot outlive it or hold the check open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { elapsedSince, STOPPING_REASON } from './deadline.js';
import { socketErrorReason } from './reasons.js';
import { scriptSpawnOptions } from '../util/script-process.js';
import type { CheckTarget, Prober, ProbeResult, ScriptCheckSpec } from './types.js';
const STDERR_CAP = 512;
/** After the child exits, how long to wait for the rest of its stderr before giving up on it. */
const STDERR_GRACE_MS = 100;

/** The check's own variables; scriptSpawnOptions adds PATH and nothing else. */
export function scriptEnv(target: CheckTarget): Record<string, string> {
  return {
    LVSKEEP_RS_ADDR: target.address,
    LVSKEEP_RS_PORT: String(target.port),
    LVSKEEP_VS: target.virtualServer,
  };
}

/** Verdict from an exit status, keepalived misc_dynamic style when enabled. Pure, exported for tests. */
export function exitVerdict(code: number, dynamicWeight: boolean): { ok: boolean; weight?: number } {
  if (code === 0) return { ok: true };
  if (dynamicWeight && code >= 2 && code <= 255) return { ok: true, weight: code - 2 };
  return { ok: false };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group may be gone already; make sure the child itself is
  }
}

export function createScriptProber(spec: ScriptCheckSpec, target: CheckTarget): Prober {
  /** Ends an in-flight probe (killing its process group); close() calls them. */
  const running = new Map<ChildProcess, () => void>();
  let closed = false;

  function probe(signal?: AbortSignal): Promise<ProbeResult> {
    const start = performance.now();
    const [file, ...args] = spec.command;
    if (closed) return Promise.resolve({ ok: false, latencyMs: 0, reason: 'checker closed' });
    if (file === undefined) return Promise.resolve({ ok: false, latencyMs: 0, reason: 'script check: empty command' });
    return new Promise<ProbeResult>((resolve) => {
      let settled = false;
      let stderr = '';
      let timedOut = false;
      let grace: NodeJS.Timeout | undefined;
      const child = spawn(file, args, {
        ...scriptSpawnOptions(scriptEnv(target), spec.user),
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true, // own process group, see above
      });

      const finish = (ok: boolean, reason: string, weight?: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        signal?.removeEventListener('abort', onAbort);
        running.delete(child);
        child.stderr?.destroy();
        const result: ProbeResult = { ok, latencyMs: elapsedSince(start), reason };
        if (weight !== undefined) result.weight = weight;
        resolve(result);
      };
      const onAbort = (): void => {
        killGroup(child);
        finish(false, STOPPING_REASON);
      };
      running.set(child, onAbort);
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, Math.max(1, spec.timeoutMs));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });

      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (s: string) => {
        if (stderr.length < STDERR_CAP) stderr += s.slice(0, STDERR_CAP - stderr.length);
      });
      child.stderr?.on('error', () => undefined);
      child.on('error', (err) => finish(false, `cannot run ${file}: ${socketErrorReason(err)}`));
      child.on('exit', (code, sig) => {
        const conclude = (): void => {
          const line = stderr.split('\n').find((l) => l.trim() !== '')?.trim();
          const detail = line ? `: ${line}` : '';
          if (timedOut) return finish(false, `timeout after ${spec.timeoutMs} ms (killed)`);
          if (code === null) return finish(false, `killed by ${sig ?? 'signal'}${detail}`);
          const v = exitVerdict(code, spec.dynamicWeight);
          if (v.ok) return finish(true, v.weight !== undefined ? `exit ${code} (weight ${v.weight})` : `exit ${code}`, v.weight);
          finish(false, `exit ${code}${detail}`);
        };
        // stderr may still hold the script's last words; wait for it briefly, not for grandchildren holding it.
        if (!child.stderr || child.stderr.readableEnded) return conclude();
        grace = setTimeout(conclude, STDERR_GRACE_MS);
        child.stderr.once('close', conclude);
      });
    });
  }

  return {
    probe,
    close: async () => {
      closed = true;
      for (const end of [...running.values()]) end();
    },
  };
}
