// Entry point of the VRRP child process, forked by the daemon (fork-link.ts) with an IPC channel. Everything it
// does is in child.ts; this file plugs it onto `process`. Signals meant for the whole process group (Ctrl-C in a
// terminal) are ignored: the parent decides when VRRP stops, and a parent that dies closes the IPC channel,
// which stops VRRP here the planned way.
import { availableParallelism } from 'node:os';
import { createLogger, type LogFormat } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { createVrrpManager } from '../runtime/manager.js';
import { tryLoadNativeAddon } from '../transport/native.js';
import { createVrrpChild } from './child.js';
import { isToChild, type FromChild } from './protocol.js';
import type { LevelWithSilent } from 'pino';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('lvskeep VRRP child: no IPC channel (this file is started by `lvskeep run`, not by hand)\n');
  process.exit(2);
}

/** The addon's setRealtime, or undefined when the addon is missing or older: the child then warns and runs without RT. */
function nativeSetRealtime(): ((priority: number, rttimeUs: number) => void) | undefined {
  try {
    const addon = tryLoadNativeAddon();
    return addon?.setRealtime ? (p, us) => addon.setRealtime?.(p, us) : undefined;
  } catch {
    return undefined;
  }
}

const child = createVrrpChild({
  setRealtime: nativeSetRealtime(),
  cpuCount: availableParallelism,
  channel: {
    send(msg: FromChild, done) {
      if (!process.connected) return done(new Error('IPC channel closed'));
      send(msg, undefined, undefined, (err) => done(err ?? null));
    },
  },
  makeLogger: async (s) => (await createLogger({ level: s.logLevel as LevelWithSilent, format: s.logFormat as LogFormat })).child({ process: 'vrrp', pid: process.pid }),
  makeManager: (config, deps) => createVrrpManager(config, deps),
  exit: () => {
    process.disconnect?.();
    process.exit(0);
  },
});

process.on('message', (m: unknown) => {
  if (isToChild(m)) child.handle(m);
});
process.on('disconnect', () => void child.parentGone());
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => undefined);
process.on('uncaughtException', (err) => {
  // State may be corrupt: say why to the parent (it logs, releases the VIPs and restarts us) and end now.
  const error = `uncaught: ${errorMessage(err)}`;
  process.stderr.write(`lvskeep VRRP child ${process.pid}: ${error}\n${err instanceof Error ? (err.stack ?? '') : ''}\n`);
  if (process.connected) send({ t: 'fatal', error } satisfies FromChild, undefined, undefined, () => process.exit(70));
  else process.exit(70);
  setTimeout(() => process.exit(70), 1_000).unref();
});
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(String(reason));
});
