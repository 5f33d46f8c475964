import { spawn } from 'node:child_process';
import type { LvsEvent } from '../../events/types.js';
import { errorMessage } from '../../util/errors.js';
import { scriptSpawnOptions, type ScriptUser } from '../../util/script-process.js';
import type { AlertMessage, DeliveryOutcome, Sink } from '../types.js';

/** `tcp 203.0.113.1:80` -> `203.0.113.1:80`, as keepalived's notify scripts see a virtual server. */
function vsAddress(id: string): string {
  const m = /^(tcp|udp|sctp) (.+)$/.exec(id);
  return m ? (m[2] as string) : id;
}

/**
 * Arguments appended to the command, following keepalived's notify convention where one exists:
 * `INSTANCE name STATE priority` for VRRP and `RS addr:port VS addr:port UP|DOWN` for real servers; other events
 * get `EVENT type dedup-key SEVERITY|RESOLVED`. The full event is in the environment as JSON.
 */
export function notifyArgs(e: LvsEvent): string[] {
  switch (e.type) {
    case 'vrrp.state':
      return ['INSTANCE', e.instance, e.to, String(e.priority)];
    case 'rs.down':
    case 'rs.up':
      return ['RS', e.realServer, 'VS', vsAddress(e.virtualServer), e.type === 'rs.up' ? 'UP' : 'DOWN'];
    default:
      return ['EVENT', e.type, e.dedupKey, e.resolves ? 'RESOLVED' : e.severity.toUpperCase()];
  }
}

export function notifyEnv(e: LvsEvent, host: string): Record<string, string> {
  return {
    LVSKEEP_EVENT: JSON.stringify({ ...e, time: new Date(e.time).toISOString() }),
    LVSKEEP_EVENT_TYPE: e.type,
    LVSKEEP_SEVERITY: e.severity,
    LVSKEEP_DEDUP_KEY: e.dedupKey,
    LVSKEEP_RESOLVES: e.resolves ? '1' : '0',
    LVSKEEP_HOST: host,
    ...('virtualServer' in e ? { LVSKEEP_VIRTUAL_SERVER: e.virtualServer } : {}),
  };
}

/** Output kept from a script for the error message; the rest is discarded so a chatty script costs no memory. */
const MAX_OUTPUT = 2048;
/** After the timeout's SIGTERM, a script gets this long before SIGKILL. */
const KILL_GRACE_MS = 1000;

export interface ScriptSinkOptions {
  name: string;
  command: string[];
  host: string;
  /** Run as this user instead of the daemon's. */
  user?: ScriptUser;
}

/** Runs one notification: clean environment (PATH plus `env`, never the daemon's own), optionally as `user`. */
export function runScript(argv: string[], env: Record<string, string>, signal: AbortSignal, user?: ScriptUser): Promise<DeliveryOutcome> {
  const [file, ...args] = argv;
  if (!file) return Promise.resolve({ ok: false, retryable: false, error: 'script sink has an empty command' });
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const done = (out: DeliveryOutcome): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve(out);
    };
    // Own process group, so a timeout kills what the script started too (a shell's `sleep`, a `curl`).
    // Not the daemon's environment: it holds the secrets of EnvironmentFile= (webhook tokens, API keys).
    const child = spawn(file, args, { ...scriptSpawnOptions(env, user), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        child.kill(sig); // group already gone, or spawn failed: fall back to the process itself
      }
    };
    const keep = (chunk: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const onAbort = (): void => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    child.on('error', (err) => done({ ok: false, retryable: false, error: `script ${file}: ${errorMessage(err)}` }));
    child.on('close', (code, sig) => {
      // A child forked while the group was being signalled can outlive the script; after a timeout nothing
      // of the run may stay behind.
      if (signal.aborted) killGroup('SIGKILL');
      if (code === 0) return done({ ok: true });
      const why = signal.aborted ? 'timed out' : sig ? `killed by ${sig}` : `exit status ${code}`;
      const tail = output.trim().split('\n').slice(-3).join(' | ');
      done({ ok: false, retryable: true, error: `script ${file}: ${why}${tail ? `: ${tail}` : ''}` });
    });
  });
}

/** One process per event, one at a time (the dispatcher's per-sink queue runs deliveries in order). */
export function createScriptSink(o: ScriptSinkOptions): Sink {
  return {
    name: o.name,
    type: 'script',
    acceptsGroups: false,
    describe: () => `script ${o.command[0] ?? '<empty>'}`,
    async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      if (message.kind === 'digest') return { ok: true, skipped: 'script sinks take events, not digests' };
      for (const e of message.events) {
        const out = await runScript([...o.command, ...notifyArgs(e)], notifyEnv(e, o.host), signal, o.user);
        if (!out.ok) return out;
      }
      return { ok: true };
    },
  };
}
