// The real link to a VRRP child: `child_process.fork` of child-main with an IPC channel (structured clone).
// Workers were the first choice, but both native addons (ours and `netlink`) keep libuv poll handles that
// crash the whole process when a worker thread dies with them open; a process dies alone.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildLink, SpawnChild } from './supervisor.js';
import type { ToChild } from './protocol.js';

/** child-main.ts under tsx (tests, development), child-main.js from dist. */
export const CHILD_ENTRY = fileURLToPath(new URL(`./child-main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));

export const forkChild: SpawnChild = () => {
  const child = fork(CHILD_ENTRY, [], {
    // Same network namespace, same stdout/stderr (the child logs there itself), same Node flags (--import tsx).
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, LVSKEEP_VRRP_CHILD: '1' },
    // Profiling hook (benchmarks): NODE_OPTIONS refuses --cpu-prof, so a directory here adds it to this child only.
    ...(process.env.LVSKEEP_VRRP_CPU_PROF_DIR ? { execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${process.env.LVSKEEP_VRRP_CPU_PROF_DIR}`] } : {}),
  });
  const link: ChildLink = {
    pid: child.pid,
    send(msg: ToChild, done) {
      if (!child.connected) {
        done(new Error('the VRRP process is not connected'));
        return;
      }
      child.send(msg, undefined, undefined, (err) => done(err ?? null));
    },
    onMessage: (fn) => void child.on('message', fn),
    onExit: (fn) => {
      let told = false;
      const once = (code: number | null, signal: string | null): void => {
        if (told) return;
        told = true;
        fn(code, signal);
      };
      child.once('exit', once);
      // A fork that failed to spawn (EAGAIN, ENOMEM) emits only 'error': it is an exit all the same.
      child.once('error', () => {
        if (child.pid === undefined) once(null, null);
      });
    },
    onError: (fn) => void child.on('error', fn),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  return link;
};
