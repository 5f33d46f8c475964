/**
 * HTTP/HTTPS checker on undici. One Agent per checker; every probe closes its connection (a health check must
 * open a fresh connection each time, and a keep-alive socket per real server would pile up on thousands of
 * checks). The connect deadline and the total deadline are our own timers, so a server that trickles bytes
 * cannot stretch a probe past `timeoutMs`.
 */
import { isIP, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, buildConnector } from 'undici';
import { startDeadline, elapsedSince, STOPPING_REASON } from './deadline.js';
import { bodyVerdict, needsBody, statusMatches } from './expect.js';
import { socketErrorReason } from './reasons.js';
import type { CheckTarget, HttpCheckSpec, Prober, ProbeResult } from './types.js';

const DEFAULT_MAX_BODY = 64 * 1024;
const CONNECT_TIMEOUT_CODE = 'LVSKEEP_CONNECT_TIMEOUT';

type Phase = 'connect' | 'response' | 'body';

/**
 * Let go of a response body we do not need. Destroying an unfinished undici body creates (and stack-traces)
 * a RequestAbortedError, which dominated CPU per check in the benchmark; a small health response has
 * usually arrived whole with its headers, so give it one turn to end and destroy it only if it has not.
 */
async function discard(body: Readable): Promise<void> {
  body.on('error', () => undefined); // an unfinished body emits an abort error when destroyed; expected here
  if (!body.readableEnded) {
    const ended = new Promise<boolean>((resolve) => body.once('end', () => resolve(true)));
    body.resume();
    const finished = await Promise.race([ended, new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
    if (finished) return;
  }
  body.destroy();
}

function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** SNI may only carry a host name (RFC 6066), never an address literal. */
function sniFor(spec: HttpCheckSpec): string | undefined {
  if (spec.tls?.sni) return spec.tls.sni;
  const host = spec.host?.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host && isIP(host) === 0 ? host : undefined;
}

export function createHttpProber(spec: HttpCheckSpec, target: CheckTarget): Prober {
  const endpoint = spec.connect ?? { address: target.address, port: target.port };
  const scheme = spec.type === 'https' ? 'https' : 'http';
  const origin = `${scheme}://${urlHost(endpoint.address)}:${endpoint.port}`;
  const connectTimeoutMs = Math.min(spec.connectTimeoutMs ?? spec.timeoutMs, spec.timeoutMs);
  const maxBody = spec.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let regex: RegExp | undefined;
  try {
    regex = spec.expect.bodyRegex !== undefined ? new RegExp(spec.expect.bodyRegex) : undefined;
  } catch (err) {
    throw new Error(`${spec.type} check of ${target.address}:${target.port}: expect.bodyRegex: ${(err as Error).message}`);
  }
  const servername = spec.type === 'https' ? sniFor(spec) : undefined;
  const sockets = new Set<Socket>();
  let phase: Phase = 'connect';
  /** TCP connected but TLS not yet done (https only): names the phase when the total deadline hits. */
  let handshaking = false;
  // Read through a function: the connector sets `phase` from a callback, which TS narrowing cannot see.
  const currentPhase = (): Phase => phase;

  const base = buildConnector({
    timeout: 0, // disabled: undici's coarse connect timer is replaced by the exact one below
    keepAlive: false,
    maxCachedSessions: 0, // no TLS resumption: every probe must see (and verify) the certificate
    ...(spec.type === 'https'
      ? { rejectUnauthorized: spec.tls?.verify ?? true, ...(spec.tls?.ca ? { ca: spec.tls.ca } : {}), ...(servername ? { servername } : {}) }
      : {}),
  });

  const connect: buildConnector.connector = (opts, callback) => {
    let settled = false;
    // undici's connector returns the socket although its type says void; we need it to enforce the deadline.
    const withSource = spec.bindAddress ? { ...opts, localAddress: spec.bindAddress } : opts; // undici passes its own (empty) localAddress
    const socket = (base as unknown as (o: buildConnector.Options, cb: buildConnector.Callback) => Socket)(withSource, (...args) => {
      clearTimeout(timer);
      if (settled) {
        args[1]?.destroy();
        return;
      }
      settled = true;
      handshaking = false;
      if (args[0] === null) phase = 'response';
      callback(...args);
    });
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // For https the connector settles after the TLS handshake; tell a silent TLS peer from an unanswered SYN.
    let tcpUp = false;
    socket.once('connect', () => {
      tcpUp = true;
      if (spec.type === 'https') handshaking = true;
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const what = tcpUp && spec.type === 'https' ? 'TLS handshake timeout' : 'connect timeout';
      callback(Object.assign(new Error(`${what} after ${connectTimeoutMs} ms`), { code: CONNECT_TIMEOUT_CODE }), null);
    }, connectTimeoutMs);
  };

  const agent = new Agent({ connect, pipelining: 1, connections: 1 });
  const headers: Record<string, string> = { ...spec.headers, 'user-agent': spec.headers['user-agent'] ?? 'lvskeep-health' };
  if (spec.host) headers.host = spec.host;
  let closed = false;

  async function probe(signal?: AbortSignal): Promise<ProbeResult> {
    const start = performance.now();
    const fail = (reason: string): ProbeResult => ({ ok: false, latencyMs: elapsedSince(start), reason });
    if (closed) return fail('checker closed');
    const deadline = startDeadline(spec.timeoutMs, signal);
    phase = 'connect';
    handshaking = false;
    let received = 0;
    try {
      const res = await agent.request({
        origin,
        path: spec.path,
        method: spec.method as Parameters<Agent['request']>[0]['method'],
        headers,
        signal: deadline.signal,
        reset: true, // `connection: close`, and undici drops the socket after this response
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(servername ? { servername } : {}),
      });
      if (!statusMatches(res.statusCode, spec.expect.status)) {
        await discard(res.body);
        return fail(`HTTP ${res.statusCode}`);
      }
      if (!needsBody(spec.expect)) {
        await discard(res.body);
        return { ok: true, latencyMs: elapsedSince(start), reason: `HTTP ${res.statusCode}` };
      }
      phase = 'body';
      const chunks: Buffer[] = [];
      let truncated = false;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        const room = maxBody - received;
        if (buf.length > room) {
          chunks.push(buf.subarray(0, room));
          received += room;
          truncated = true;
          break;
        }
        chunks.push(buf);
        received += buf.length;
      }
      await discard(res.body);
      const verdict = bodyVerdict(Buffer.concat(chunks), truncated, spec.expect, regex);
      if (verdict) return fail(verdict);
      return { ok: true, latencyMs: elapsedSince(start), reason: `HTTP ${res.statusCode}` };
    } catch (err) {
      if (deadline.expired()) {
        const phase = currentPhase();
        if (phase === 'connect') return fail(`${handshaking ? 'TLS handshake timeout' : 'connect timeout'} after ${spec.timeoutMs} ms`);
        if (phase === 'response') return fail(`timeout after ${spec.timeoutMs} ms waiting for response headers`);
        return fail(`timeout after ${spec.timeoutMs} ms reading body (${received} bytes received)`);
      }
      if (signal?.aborted) return fail(STOPPING_REASON);
      if ((err as { code?: unknown }).code === CONNECT_TIMEOUT_CODE) return fail((err as Error).message);
      return fail(socketErrorReason(err));
    } finally {
      deadline.done();
      // Belt and braces: whatever undici kept, this probe's connection ends here.
      for (const s of sockets) s.destroy();
    }
  }

  return {
    probe,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await agent.destroy().catch(() => undefined);
    },
  };
}
