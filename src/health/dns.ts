/**
 * DNS checker: one query over UDP, up when a NOERROR answer to that query (same id, same question) arrives
 * before the deadline. The socket is connected, so the kernel drops datagrams from other peers and reports
 * an ICMP port unreachable as ECONNREFUSED.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { elapsedSince, STOPPING_REASON } from './deadline.js';
import { checkResponse, encodeQuery, RECORD_TYPES, type DnsQuery } from './dns-codec.js';
import { socketErrorReason } from './reasons.js';
import type { CheckTarget, DnsCheckSpec, Prober, ProbeResult } from './types.js';

/** Datagrams that are not our answer (stale ids) we tolerate per attempt before calling the server broken. */
const MAX_FOREIGN = 32;

export function createDnsProber(spec: DnsCheckSpec, target: CheckTarget): Prober {
  const endpoint = spec.connect ?? { address: target.address, port: target.port };
  const type = RECORD_TYPES[spec.recordType];
  /** Ends an in-flight probe; close() calls them so no promise is left hanging. */
  const live = new Map<Socket, () => void>();
  let closed = false;

  function probe(signal?: AbortSignal): Promise<ProbeResult> {
    const start = performance.now();
    if (closed) return Promise.resolve({ ok: false, latencyMs: 0, reason: 'checker closed' });
    const query: DnsQuery = { id: randomInt(0, 0x10000), name: spec.name, type, recursionDesired: true };
    let wire: Buffer;
    try {
      wire = encodeQuery(query);
    } catch (err) {
      return Promise.resolve({ ok: false, latencyMs: 0, reason: (err as Error).message });
    }
    return new Promise<ProbeResult>((resolve) => {
      let settled = false;
      let foreign = 0;
      const socket = createSocket(isIP(endpoint.address) === 6 ? 'udp6' : 'udp4');
      const finish = (ok: boolean, reason: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        live.delete(socket);
        try {
          socket.close();
        } catch {
          // already closed by an error path
        }
        resolve({ ok, latencyMs: elapsedSince(start), reason });
      };
      const onAbort = (): void => finish(false, STOPPING_REASON);
      live.set(socket, onAbort);
      const timer = setTimeout(() => finish(false, `no DNS answer within ${spec.timeoutMs} ms`), Math.max(1, spec.timeoutMs));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('error', (err) => finish(false, socketErrorReason(err)));
      socket.on('message', (msg) => {
        const v = checkResponse(msg, query);
        if (v.kind === 'ok') return finish(true, 'DNS NOERROR');
        if (v.kind === 'bad') return finish(false, v.reason);
        if (++foreign > MAX_FOREIGN) finish(false, `${foreign} datagrams that do not answer the query (last: ${v.reason})`);
      });
      const send = (): void => {
        socket.connect(endpoint.port, endpoint.address, () => {
          if (settled) return;
          socket.send(wire, (err) => {
            if (err) finish(false, socketErrorReason(err));
          });
        });
      };
      if (spec.bindAddress) socket.bind({ address: spec.bindAddress, port: 0 }, send);
      else send();
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
