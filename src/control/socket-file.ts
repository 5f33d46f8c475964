/**
 * The control socket's place in the file system: a 0700 parent directory, and a socket file left behind by a
 * crashed daemon removed only when nothing answers on it (a second daemon must not steal a live one's socket).
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { errnoCode, errorMessage } from '../util/errors.js';

export type SocketProbe =
  | { kind: 'absent' }
  | { kind: 'not-socket' }
  /** Something accepted a connection (or kept us waiting: treated as alive, never removed). */
  | { kind: 'live'; detail: string }
  /** A socket file nobody listens on (ECONNREFUSED). */
  | { kind: 'stale' };

export async function probeSocket(path: string, timeoutMs = 1000): Promise<SocketProbe> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) return { kind: 'not-socket' };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { kind: 'absent' };
    throw new Error(`cannot inspect ${path}: ${errorMessage(err)}`);
  }
  return new Promise<SocketProbe>((resolve) => {
    const sock = connect({ path });
    const done = (p: SocketProbe): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done({ kind: 'live', detail: `no answer within ${timeoutMs} ms, but not refused either` }), timeoutMs);
    sock.once('connect', () => done({ kind: 'live', detail: 'it accepts connections' }));
    sock.once('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ECONNREFUSED') done({ kind: 'stale' });
      else if (code === 'ENOENT') done({ kind: 'absent' });
      else done({ kind: 'live', detail: `connecting failed with ${code ?? errorMessage(err)}, so it may be in use` });
    });
  });
}

/**
 * Make `path` free for a new listening socket: create the parent directory (0700) when missing, remove a stale
 * socket, refuse when another process answers or when the path is something other than a socket.
 */
export async function prepareSocketPath(path: string, logger: Logger): Promise<void> {
  // recursive: no error when it exists; a directory that exists keeps its mode (it may be shared, e.g. /run).
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const probe = await probeSocket(path);
  switch (probe.kind) {
    case 'absent':
      return;
    case 'not-socket':
      throw new Error(`control socket path ${path} exists and is not a socket; refusing to remove it (set control.socket to another path)`);
    case 'live':
      throw new Error(`another lvskeep appears to be running: the control socket ${path} is in use (${probe.detail}); stop it first or set control.socket to another path`);
    case 'stale':
      logger.info({ socket: path }, 'removing a stale control socket left by an earlier run');
      try {
        await unlink(path);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw new Error(`cannot remove the stale control socket ${path}: ${errorMessage(err)}`);
      }
  }
}
