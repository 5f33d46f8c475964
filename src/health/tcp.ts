/** TCP checker: connect within the deadline; optionally send bytes and wait for expected bytes in the reply. */
import { connect, type Socket } from 'node:net';
import { elapsedSince, STOPPING_REASON } from './deadline.js';
import { socketErrorReason } from './reasons.js';
import type { CheckTarget, Prober, ProbeResult, TcpCheckSpec } from './types.js';

const DEFAULT_MAX_READ = 64 * 1024;

export function createTcpProber(spec: TcpCheckSpec, target: CheckTarget): Prober {
  const endpoint = spec.connect ?? { address: target.address, port: target.port };
  const maxRead = spec.maxReadBytes ?? DEFAULT_MAX_READ;
  /** Ends an in-flight probe; close() calls them so no promise is left hanging. */
  const live = new Map<Socket, () => void>();
  let closed = false;

  function probe(signal?: AbortSignal): Promise<ProbeResult> {
    const start = performance.now();
    if (closed) return Promise.resolve({ ok: false, latencyMs: 0, reason: 'checker closed' });
    return new Promise<ProbeResult>((resolve) => {
      let connected = false;
      let received = Buffer.alloc(0);
      let settled = false;
      const socket = connect({
        host: endpoint.address,
        port: endpoint.port,
        ...(spec.bindAddress ? { localAddress: spec.bindAddress } : {}),
        noDelay: true,
      });

      const finish = (ok: boolean, reason: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        live.delete(socket);
        resolve({ ok, latencyMs: elapsedSince(start), reason });
      };
      const onAbort = (): void => finish(false, STOPPING_REASON);
      live.set(socket, onAbort);
      const timer = setTimeout(() => {
        if (!connected) finish(false, `connect timeout after ${spec.timeoutMs} ms`);
        else finish(false, `timeout after ${spec.timeoutMs} ms waiting for expected bytes (${received.length} bytes received)`);
      }, Math.max(1, spec.timeoutMs));
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('error', (err) => finish(false, socketErrorReason(err)));
      socket.on('connect', () => {
        connected = true;
        if (!spec.send && !spec.expect) return finish(true, 'connected');
        if (spec.send) {
          socket.write(spec.send, (err) => {
            if (err) finish(false, socketErrorReason(err));
            else if (!spec.expect) finish(true, `connected, sent ${spec.send?.length ?? 0} bytes`);
          });
        }
      });
      socket.on('data', (chunk: Buffer) => {
        if (!spec.expect) return;
        received = Buffer.concat([received, chunk]);
        if (received.includes(spec.expect)) return finish(true, 'expected bytes received');
        if (received.length >= maxRead) finish(false, `expected bytes not in the first ${maxRead} bytes`);
      });
      socket.on('end', () => finish(false, `connection closed by server before the expected bytes (${received.length} bytes received)`));
    });
  }

  return {
    probe,
    close: async () => {
      closed = true;
      for (const end of [...live.values()]) end();
    },
  };
}
