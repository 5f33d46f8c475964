/**
 * One request line in, one response out: parse, validate, run the handler under a deadline, validate its result.
 * Never throws and never rejects: every failure becomes an error response naming what was wrong.
 */
import {
  argsSchemas,
  ControlError,
  COMMAND_NAMES,
  describeIssues,
  isCommandName,
  requestIdSchema,
  requestSchema,
  resultSchemas,
  type ControlHandlers,
  type ControlResponse,
  type ErrorCode,
  type RequestId,
} from './protocol.js';
import { errorMessage } from '../util/errors.js';

export interface DispatchTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DispatchOptions {
  handlers: ControlHandlers;
  timeoutMs: number;
  timers?: DispatchTimers;
}

const realTimers: DispatchTimers = {
  // Unref'd: a handler that never settles must not keep a stopping daemon alive until its deadline.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export function errorResponse(id: RequestId | null, code: ErrorCode, message: string): ControlResponse {
  return { id, ok: false, error: { code, message } };
}

/** The id of a request that failed validation, when it has a usable one, so the client can still match it. */
function salvageId(value: unknown): RequestId | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const id = requestIdSchema.safeParse((value as { id: unknown }).id);
  return id.success ? id.data : null;
}

class Timeout extends Error {}

function withDeadline<T>(work: Promise<T>, ms: number, timers: DispatchTimers): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const h = timers.setTimeout(() => reject(new Timeout()), ms);
    work.then(
      (v) => {
        timers.clearTimeout(h);
        resolve(v);
      },
      (err: unknown) => {
        timers.clearTimeout(h);
        reject(err);
      },
    );
  });
}

/** The response, and the command when the line named a known one (for the server's audit log). */
export interface Dispatched {
  response: ControlResponse;
  cmd?: string;
}

export async function dispatchLine(line: string, opts: DispatchOptions): Promise<Dispatched> {
  const seen: { cmd?: string } = {};
  const response = await respond(line, opts, seen);
  return seen.cmd === undefined ? { response } : { response, cmd: seen.cmd };
}

async function respond(line: string, opts: DispatchOptions, seen: { cmd?: string }): Promise<ControlResponse> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return errorResponse(null, 'bad-json', `request is not JSON: ${errorMessage(err)}`);
  }
  const req = requestSchema.safeParse(parsed);
  if (!req.success) {
    return errorResponse(salvageId(parsed), 'bad-request', `expected { id, cmd, args }: ${describeIssues(req.error)}`);
  }
  const { id, cmd } = req.data;
  if (!isCommandName(cmd)) {
    return errorResponse(id, 'unknown-command', `unknown command "${cmd}" (known: ${COMMAND_NAMES.join(', ')})`);
  }
  seen.cmd = cmd;
  // Indexed by a runtime command name, so the per-command typing cannot follow; args are validated just below.
  const handler = opts.handlers[cmd] as ((args: unknown) => Promise<unknown>) | undefined;
  if (!handler) return errorResponse(id, 'not-supported', `this daemon does not implement "${cmd}"`);
  const args = argsSchemas[cmd].safeParse(req.data.args ?? {});
  if (!args.success) return errorResponse(id, 'invalid-args', `${cmd}: ${describeIssues(args.error)}`);

  let result: unknown;
  try {
    // A handler that throws synchronously is treated like one that rejects.
    result = await withDeadline(Promise.resolve().then(() => handler(args.data)), opts.timeoutMs, opts.timers ?? realTimers);
  } catch (err) {
    if (err instanceof Timeout) return errorResponse(id, 'timeout', `${cmd}: no result within ${opts.timeoutMs} ms`);
    if (err instanceof ControlError) return errorResponse(id, err.code, err.message);
    return errorResponse(id, 'failed', `${cmd}: ${errorMessage(err)}`);
  }
  const checked = resultSchemas[cmd].safeParse(result);
  if (!checked.success) {
    // A daemon bug, reported to the operator instead of sending something the client cannot read.
    return errorResponse(id, 'failed', `${cmd}: the daemon produced an invalid result: ${describeIssues(checked.error)}`);
  }
  return { id, ok: true, result: checked.data };
}
