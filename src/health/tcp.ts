/**
 * TCP checker: connect within the deadline; optionally send bytes and wait for expected bytes in the reply.
 * One module-level class for every probe (no closures per probe; 'data'/'end' listeners only when the check
 * sends or expects bytes): at thousands of checks a second the checker's own allocations show in its CPU.
 */
import { connect, type Socket } from 'node:net';
import { elapsedSince, STOPPING_REASON } from './deadline.js';
import { socketErrorReason } from './reasons.js';
import type { CheckTarget, Prober, ProbeResult, TcpCheckSpec } from './types.js';

const DEFAULT_MAX_READ = 64 * 1024;
const ONCE = { once: true } as const;

interface TcpChecker {
  spec: TcpCheckSpec;
  connectOptions: { host: string; port: number; localAddress?: string; noDelay: true };
  maxRead: number;
  /** In-flight probes; close() ends them so no promise is left hanging. */
  live: Set<TcpProbe>;
}

function probeDeadline(p: TcpProbe): void {
  p.onDeadline();
}

class TcpProbe {
  readonly start = performance.now();
  readonly socket: Socket;
  connected = false;
  settled = false;
  received: Buffer | undefined = undefined;
  readonly timer: NodeJS.Timeout;

  constructor(
    private readonly c: TcpChecker,
    private readonly resolve: (r: ProbeResult) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.socket = connect(c.connectOptions);
    c.live.add(this);
    this.timer = setTimeout(probeDeadline, Math.max(1, c.spec.timeoutMs), this);
    signal?.addEventListener('abort', this, ONCE);
    const s = this.socket as Socket & { lvskeepProbe?: TcpProbe };
    s.lvskeepProbe = this;
    s.on('error', onSocketError);
    s.on('connect', onSocketConnect);
    if (c.spec.send || c.spec.expect) {
      s.on('data', onSocketData);
      s.on('end', onSocketEnd);
    }
  }

  /** The scheduler stopping, or close(): an EventListener object, so no closure per probe. */
  handleEvent(): void {
    this.finish(false, STOPPING_REASON);
  }

  onDeadline(): void {
    if (!this.connected) this.finish(false, `connect timeout after ${this.c.spec.timeoutMs} ms`);
    else this.finish(false, `timeout after ${this.c.spec.timeoutMs} ms waiting for expected bytes (${this.received?.length ?? 0} bytes received)`);
  }

  onConnect(): void {
    this.connected = true;
    const { send, expect } = this.c.spec;
    if (!send && !expect) return this.finish(true, 'connected');
    if (send) {
      this.socket.write(send, (err) => {
        if (err) this.finish(false, socketErrorReason(err));
        else if (!expect) this.finish(true, `connected, sent ${send.length} bytes`);
      });
    }
  }

  onData(chunk: Buffer): void {
    const expect = this.c.spec.expect;
    if (!expect) return;
    this.received = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    if (this.received.includes(expect)) return this.finish(true, 'expected bytes received');
    if (this.received.length >= this.c.maxRead) this.finish(false, `expected bytes not in the first ${this.c.maxRead} bytes`);
  }

  onEnd(): void {
    this.finish(false, `connection closed by server before the expected bytes (${this.received?.length ?? 0} bytes received)`);
  }

  finish(ok: boolean, reason: string): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this);
    this.socket.destroy();
    this.c.live.delete(this);
    this.resolve({ ok, latencyMs: elapsedSince(this.start), reason });
  }
}

type ProbeSocket = Socket & { lvskeepProbe: TcpProbe };
function onSocketError(this: ProbeSocket, err: Error): void {
  this.lvskeepProbe.finish(false, socketErrorReason(err));
}
function onSocketConnect(this: ProbeSocket): void {
  this.lvskeepProbe.onConnect();
}
function onSocketData(this: ProbeSocket, chunk: Buffer): void {
  this.lvskeepProbe.onData(chunk);
}
function onSocketEnd(this: ProbeSocket): void {
  this.lvskeepProbe.onEnd();
}

export function createTcpProber(spec: TcpCheckSpec, target: CheckTarget): Prober {
  const endpoint = spec.connect ?? { address: target.address, port: target.port };
  const c: TcpChecker = {
    spec,
    connectOptions: { host: endpoint.address, port: endpoint.port, ...(spec.bindAddress ? { localAddress: spec.bindAddress } : {}), noDelay: true },
    maxRead: spec.maxReadBytes ?? DEFAULT_MAX_READ,
    live: new Set(),
  };
  let closed = false;

  function probe(signal?: AbortSignal): Promise<ProbeResult> {
    if (closed) return Promise.resolve({ ok: false, latencyMs: 0, reason: 'checker closed' });
    if (signal?.aborted) return Promise.resolve({ ok: false, latencyMs: 0, reason: STOPPING_REASON });
    return new Promise<ProbeResult>((resolve) => {
      new TcpProbe(c, resolve, signal); // lives on in its socket's listeners and its timer
    });
  }

  return {
    probe,
    close: async () => {
      closed = true;
      for (const p of [...c.live]) p.handleEvent();
    },
  };
}
