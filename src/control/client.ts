/**
 * One request to the running daemon over its control socket, with errors an operator can act on.
 */
import { connect, type Socket } from 'node:net';
import type { z } from 'zod';
import { errnoCode, errorMessage } from '../util/errors.js';
import { LineSplitter } from './lines.js';
import {
  describeIssues,
  MAX_RESPONSE_LINE,
  requestIdSchema,
  resultSchemas,
  type ArgsOf,
  type CommandName,
  type ErrorCode,
} from './protocol.js';

export type ClientErrorCode = 'not-running' | 'permission' | 'timeout' | 'connect' | 'protocol' | ErrorCode;

export class ControlClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControlClientError';
  }
}

export interface ControlRequestOptions {
  /** Whole exchange, connect to answer. Default 35 s: longer than the server's own 30 s per request. */
  timeoutMs?: number;
  /** Tests inject a socket that fails in ways root cannot provoke (EACCES). */
  connect?: (path: string) => Socket;
}

export const DEFAULT_CLIENT_TIMEOUT_MS = 35_000;

/** What a failed connect means to the operator. Pure. */
export function connectError(err: unknown, path: string): ControlClientError {
  switch (errnoCode(err)) {
    case 'ENOENT':
      return new ControlClientError('not-running', `lvskeep is not running (no control socket at ${path})`);
    case 'ECONNREFUSED':
      return new ControlClientError('not-running', `lvskeep is not running (nothing listens on the control socket ${path}; left by a stopped daemon?)`);
    case 'EACCES':
    case 'EPERM':
      return new ControlClientError('permission', `permission denied on ${path}: run as root`);
    default:
      return new ControlClientError('connect', `cannot connect to the control socket ${path}: ${errorMessage(err)}`);
  }
}

export type ResultOutput<C extends CommandName> = z.output<(typeof resultSchemas)[C]>;

let nextId = 1;

export function controlRequest<C extends CommandName>(
  path: string,
  cmd: C,
  args: ArgsOf<C>,
  opts: ControlRequestOptions = {},
): Promise<ResultOutput<C>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  const id = nextId++;
  return new Promise<ResultOutput<C>>((resolve, reject) => {
    let connected = false;
    let settled = false;
    const sock = (opts.connect ?? ((p: string) => connect({ path: p })))(path);
    const finish = (err: ControlClientError | undefined, value?: ResultOutput<C>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value as ResultOutput<C>);
    };
    const timer = setTimeout(() => {
      const stage = connected ? 'answer' : 'connection';
      finish(new ControlClientError('timeout', `no ${stage} from lvskeep on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);

    const splitter = new LineSplitter(MAX_RESPONSE_LINE);
    sock.once('connect', () => {
      connected = true;
      sock.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
    sock.on('error', (err) => {
      finish(connected ? new ControlClientError('connect', `control connection to ${path} failed: ${errorMessage(err)}`) : connectError(err, path));
    });
    sock.on('close', () => finish(new ControlClientError('protocol', `lvskeep closed the control connection on ${path} without answering`)));
    sock.on('data', (chunk: Buffer) => {
      const { lines, overflow } = splitter.push(chunk);
      if (overflow) {
        finish(new ControlClientError('protocol', `answer from ${path} is longer than ${MAX_RESPONSE_LINE} bytes`));
        return;
      }
      for (const line of lines) {
        const outcome = readResponse(line, id, cmd, path);
        if (outcome === 'other') continue;
        if (outcome instanceof ControlClientError) finish(outcome);
        else finish(undefined, outcome.result);
        return;
      }
    });
  });
}

/** Check one response line; 'other' for an answer to a different id (not ours to take). */
function readResponse<C extends CommandName>(
  line: string,
  id: number,
  cmd: C,
  path: string,
): { result: ResultOutput<C> } | ControlClientError | 'other' {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    return new ControlClientError('protocol', `answer from ${path} is not JSON: ${errorMessage(err)}`);
  }
  if (typeof msg !== 'object' || msg === null) return new ControlClientError('protocol', `answer from ${path} is not an object`);
  const m = msg as { id?: unknown; ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
  // An error without id (busy, line-too-long) is about our connection, so it is ours.
  if (m.id !== null && m.id !== undefined && m.id !== id) return requestIdSchema.safeParse(m.id).success ? 'other' : new ControlClientError('protocol', `answer from ${path} has an invalid id`);
  if (m.ok === false) {
    const code = typeof m.error?.code === 'string' ? (m.error.code as ErrorCode) : 'failed';
    const message = typeof m.error?.message === 'string' ? m.error.message : 'the daemon reported an error without a message';
    return new ControlClientError(code, message);
  }
  if (m.ok !== true) return new ControlClientError('protocol', `answer from ${path} has no "ok" field`);
  const parsed = resultSchemas[cmd].safeParse(m.result);
  if (!parsed.success) {
    return new ControlClientError('protocol', `unexpected ${cmd} answer from ${path} (different lvskeep versions?): ${describeIssues(parsed.error)}`);
  }
  return { result: parsed.data as ResultOutput<C> };
}
