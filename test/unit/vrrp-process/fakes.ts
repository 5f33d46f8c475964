// A fake VRRP child process for the supervisor: it records what the parent sent, and the test makes it answer,
// push, crash or hang. Plus a logger whose JSON lines the test can read.
import { Writable } from 'node:stream';
import type { VrrpConfig } from '../../../src/config/types.js';
import { createLogger, type Logger } from '../../../src/log/logger.js';
import type { ChildLink } from '../../../src/vrrp/process/supervisor.js';
import type { FromChild, ToChild } from '../../../src/vrrp/process/protocol.js';
import type { ManagedInstanceStatus } from '../../../src/vrrp/runtime/manager.js';

export class FakeChild implements ChildLink {
  readonly received: ToChild[] = [];
  killed = false;
  exited = false;
  /** When false, sends never complete (a child that does not read). */
  reading = true;
  /** Answer `start` / `stop` by itself (stop: answer, then exit 0). */
  autoAnswer = true;
  private msg: ((m: unknown) => void) | undefined;
  private exit: ((code: number | null, signal: string | null) => void) | undefined;

  constructor(readonly pid: number) {}

  send(m: ToChild, done: (err: Error | null) => void): void {
    if (this.exited) return done(new Error('gone'));
    if (!this.reading) return;
    this.received.push(m);
    done(null);
    if (!this.autoAnswer) return;
    if (m.t === 'start' || m.t === 'reload') queueMicrotask(() => this.push({ t: 'reply', id: m.id, ok: true, value: m.t === 'reload' ? { kept: ['vi1'], started: [], stopped: [] } : undefined }));
    if (m.t === 'stop') {
      queueMicrotask(() => {
        this.push({ t: 'reply', id: m.id, ok: true });
        this.die(0, null);
      });
    }
  }
  onMessage(fn: (m: unknown) => void): void {
    this.msg = fn;
  }
  onExit(fn: (code: number | null, signal: string | null) => void): void {
    this.exit = fn;
  }
  onError(): void {}
  kill(): void {
    this.killed = true;
    this.die(null, 'SIGKILL');
  }

  push(m: FromChild | Record<string, unknown>): void {
    this.msg?.(m);
  }
  die(code: number | null, signal: string | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exit?.(code, signal);
  }
  of<T extends ToChild['t']>(t: T): Extract<ToChild, { t: T }>[] {
    return this.received.filter((m): m is Extract<ToChild, { t: T }> => m.t === t);
  }
}

export function spawner() {
  const children: FakeChild[] = [];
  let pid = 1000;
  const self = {
    children,
    /** Whether new children answer start/stop by themselves. */
    autoAnswer: true,
    spawn: (): FakeChild => {
      const c = new FakeChild(++pid);
      c.autoAnswer = self.autoAnswer;
      children.push(c);
      return c;
    },
    last: (): FakeChild => {
      const c = children.at(-1);
      if (!c) throw new Error('no child spawned');
      return c;
    },
  };
  return self;
}

export async function capturingLogger(): Promise<{ logger: Logger; lines: () => Record<string, unknown>[] }> {
  const out: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  const logger = await createLogger({ level: 'debug', destination: dest });
  return { logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export function vrrpConfig(names: readonly string[] = ['vi1'], advertMs = 1000): VrrpConfig {
  return { instances: names.map((name) => ({ name, advert_interval: advertMs })), sync_groups: [] } as unknown as VrrpConfig; // only names and intervals matter here
}

export function status(name: string, state: ManagedInstanceStatus['state'], holdingVips = state === 'Master'): ManagedInstanceStatus {
  return {
    name,
    state,
    basePriority: 150,
    effectivePriority: 150,
    holdingVips,
    faultReasons: [],
    lastChange: { at: 1, reason: 'test' },
    counters: { advertsSent: 1, advertsReceived: 0, sendErrors: 0, vipErrors: 0, drops: {} },
    timerLateness: { count: 0, lastMs: 0, maxMs: 0, meanMs: 0 },
  };
}
