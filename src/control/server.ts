/**
 * The daemon's control socket: a Unix stream socket speaking the line protocol of ./protocol.ts.
 *
 * Who may connect: Node has no SO_PEERCRED API, so the peer's uid is not checked. Access is the file system's:
 * the socket is chmod'ed to `mode` (default 0600, owner = the daemon's uid, normally root) inside a directory
 * created 0700. Root bypasses modes, so root and the daemon's own uid get in, nobody else. Connections that
 * arrive before the chmod is done are refused, so the umask's looser mode is never usable. We deliberately do
 * not dig the peer out of /proc/net/unix + /proc/<pid>/fd: racy and complex for no gain over the file mode.
 *
 * Bounds: connections (`maxConnections`), line length (`maxLineBytes`), queued requests per connection, time per
 * request (`requestTimeoutMs`) and idle time per connection. Requests on one connection are answered in order.
 */
import { chmod, stat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { errnoCode, errorMessage } from '../util/errors.js';
import { dispatchLine, errorResponse, type DispatchTimers } from './dispatch.js';
import { LineSplitter } from './lines.js';
import { MAX_REQUEST_LINE, type ControlHandlers, type ControlResponse } from './protocol.js';
import { prepareSocketPath } from './socket-file.js';

export interface ControlServerOptions {
  path: string;
  /** File mode of the socket, e.g. 0o600. */
  mode: number;
  handlers: ControlHandlers;
  logger: Logger;
  maxConnections?: number;
  maxLineBytes?: number;
  requestTimeoutMs?: number;
  /** A connection with no traffic for this long is closed (also frees a slot held by a client that never reads). */
  idleTimeoutMs?: number;
  maxQueuedPerConnection?: number;
  timers?: DispatchTimers;
}

export interface ControlServer {
  readonly path: string;
  /** Open connections right now. */
  connectionCount(): number;
  /** Stop listening, close every connection, remove the socket file. Idempotent. */
  close(): Promise<void>;
}

export const CONTROL_DEFAULTS = {
  maxConnections: 16,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  maxQueuedPerConnection: 32,
} as const;

/** Commands that only read; everything else is logged at info as an audit trail of operator actions. */
const READ_ONLY = new Set(['status']);

export async function createControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { path, logger } = opts;
  const maxConnections = opts.maxConnections ?? CONTROL_DEFAULTS.maxConnections;
  const maxLine = opts.maxLineBytes ?? MAX_REQUEST_LINE;
  const timeoutMs = opts.requestTimeoutMs ?? CONTROL_DEFAULTS.requestTimeoutMs;
  const idleMs = opts.idleTimeoutMs ?? CONTROL_DEFAULTS.idleTimeoutMs;
  const maxQueued = opts.maxQueuedPerConnection ?? CONTROL_DEFAULTS.maxQueuedPerConnection;

  await prepareSocketPath(path, logger);

  const sockets = new Set<Socket>();
  let ready = false;
  let closing: Promise<void> | undefined;

  const send = (sock: Socket, response: ControlResponse): boolean => {
    if (sock.destroyed || !sock.writable) return true;
    return sock.write(`${JSON.stringify(response)}\n`);
  };
  /** Answer and close both sides (half-open sockets would otherwise wait for a peer that may never end). */
  const refuse = (sock: Socket, response: ControlResponse): void => {
    if (!sock.destroyed && sock.writable) {
      sock.once('finish', () => sock.destroy());
      sock.end(`${JSON.stringify(response)}\n`);
    } else sock.destroy();
  };

  // Half-open: `echo '{...}' | socat - UNIX:...` closes its sending side right after the request and still
  // waits for the answer; we end our side once its requests are answered.
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    sock.on('error', (err) => logger.debug({ socket: path, err: errorMessage(err) }, 'control connection error'));
    if (!ready || closing) {
      refuse(sock, errorResponse(null, 'busy', 'the control socket is not accepting requests (starting or stopping)'));
      return;
    }
    if (sockets.size >= maxConnections) {
      logger.warn({ socket: path, maxConnections }, 'control connection refused: too many open connections');
      refuse(sock, errorResponse(null, 'busy', `too many control connections (max ${maxConnections}); try again`));
      return;
    }
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    serveConnection(sock);
  });

  function serveConnection(sock: Socket): void {
    const splitter = new LineSplitter(maxLine);
    const queue: string[] = [];
    let working = false;
    /** The client sent everything it will send (half-close). */
    let peerEnded = false;
    /** Set once we hang up on this client: later bytes are ignored and no handler runs for them. */
    let dead = false;
    const onIdle = (): void => {
      logger.debug({ socket: path, idleMs }, 'closing an idle control connection');
      sock.destroy();
    };
    // One listener; setTimeout(ms, cb) would add another each time the idle timer is re-armed.
    sock.on('timeout', onIdle);
    sock.setTimeout(idleMs);
    const hangUp = (response: ControlResponse): void => {
      dead = true;
      queue.length = 0;
      refuse(sock, response);
    };

    const pump = async (): Promise<void> => {
      if (working) return;
      working = true;
      // Reading waits while requests run, so a client cannot pile up work faster than it is done; a long
      // request is not idleness.
      sock.pause();
      sock.setTimeout(0);
      try {
        for (let line = queue.shift(); line !== undefined && !sock.destroyed && !dead; line = queue.shift()) {
          const started = Date.now();
          const { response, cmd } = await dispatchLine(line, { handlers: opts.handlers, timeoutMs, ...(opts.timers ? { timers: opts.timers } : {}) });
          const entry = { socket: path, cmd: cmd ?? null, ok: response.ok, ms: Date.now() - started, ...(response.ok ? {} : { error: response.error }) };
          if (cmd !== undefined && !READ_ONLY.has(cmd)) logger.info(entry, 'control request');
          else logger.debug(entry, 'control request');
          if (!send(sock, response)) await drained(sock);
        }
      } finally {
        working = false;
        if (peerEnded && !sock.destroyed) sock.end();
        else if (!sock.destroyed) {
          sock.setTimeout(idleMs);
          sock.resume();
        }
      }
    };

    sock.on('end', () => {
      peerEnded = true;
      if (dead) return;
      const last = splitter.end();
      if (last !== undefined) queue.push(last);
      if (queue.length === 0 && !working) sock.end();
      else void pump().catch(() => sock.destroy());
    });

    sock.on('data', (chunk: Buffer) => {
      if (dead) return;
      const { lines, overflow } = splitter.push(chunk);
      queue.push(...lines);
      if (overflow) {
        // Nothing after an oversize line can be trusted to start a new request: answer and hang up.
        logger.warn({ socket: path, maxLineBytes: maxLine }, 'control request line too long; closing the connection');
        hangUp(errorResponse(null, 'line-too-long', `request line longer than ${maxLine} bytes`));
        return;
      }
      if (queue.length > maxQueued) {
        hangUp(errorResponse(null, 'busy', `more than ${maxQueued} requests queued on one connection; send fewer at a time`));
        return;
      }
      pump().catch((err: unknown) => {
        logger.error({ socket: path, err: errorMessage(err) }, 'control connection failed');
        sock.destroy();
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`cannot listen on control socket ${path}: ${errorMessage(err)}`));
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ socket: path, err: errorMessage(err) }, 'control socket error'));

  let inode: number;
  try {
    await chmod(path, opts.mode);
    inode = (await stat(path)).ino;
  } catch (err) {
    await new Promise<void>((r) => server.close(() => r()));
    await unlink(path).catch(() => undefined);
    throw new Error(`cannot set mode ${opts.mode.toString(8)} on control socket ${path}: ${errorMessage(err)}`);
  }
  ready = true;
  logger.info({ socket: path, mode: `0${opts.mode.toString(8)}` }, 'control socket listening');

  const close = async (): Promise<void> => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
    // Only our own socket file: another daemon may have replaced it after we stopped answering.
    try {
      if ((await stat(path)).ino === inode) await unlink(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') logger.warn({ socket: path, err: errorMessage(err) }, 'cannot remove the control socket');
    }
  };

  return {
    path,
    connectionCount: () => sockets.size,
    close: () => (closing ??= close()),
  };
}

function drained(sock: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.once('drain', done);
    sock.once('close', done);
  });
}
