/**
 * HTTP/HTTPS checker on undici. One undici `Client` per checker (per real server), reused across probes; each
 * probe is one request dispatched with a small handler object (no response stream, no promise chain inside
 * undici). By default every probe opens a fresh connection and the request carries `connection: close`, so
 * undici drops the socket after the response (keepalived's semantics: the accept path is exercised each time).
 * The header is what makes the server close first, so the TIME_WAIT entries stay on its side, not among the
 * director's ports; undici pays for it with one error object per response, which is cheaper than the ports.
 * With `reuseConnection` the Client keeps one keep-alive connection and reuses it; a failure or timeout closes
 * it, and a reused connection the server closed before answering is retried once on a fresh one.
 * The connect deadline and the total deadline are our own timers, so a server that trickles bytes cannot
 * stretch a probe past `timeoutMs`.
 */
import { isIP, type Socket } from 'node:net';
import { buildConnector, Client, type Dispatcher } from 'undici';
import { elapsedSince, STOPPING_REASON } from './deadline.js';
import { bodyVerdict, needsBody, statusMatches } from './expect.js';
import { socketErrorReason } from './reasons.js';
import type { CheckTarget, HttpCheckSpec, Prober, ProbeResult } from './types.js';

const DEFAULT_MAX_BODY = 64 * 1024;
const CONNECT_TIMEOUT_CODE = 'LVSKEEP_CONNECT_TIMEOUT';
/** Errors that mean a reused keep-alive connection was closed by the server under us (not a verdict on it). */
const STALE_CONNECTION_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
/**
 * What our own close at a response's end destroys the socket with. undici takes a socket's error as the reason
 * of its close, and without one it builds a SocketError('closed') each time; Node also reads the stack of the
 * error a stream is destroyed with. A fresh connection per check paid both, a few percent of its CPU. One
 * error made once (its stack formatted once) spares them; code UND_ERR_INFO is undici's own mark of a close
 * that fails no request (its 'reset' close carries it), and no request is running on the socket by then.
 */
const CLOSED_AFTER_RESPONSE = Object.assign(new Error('connection closed by the checker after the response'), { code: 'UND_ERR_INFO' });
/** undici's keepAliveTimeoutThreshold here: a server's `Keep-Alive: timeout` hint is trusted minus this much. */
const KEEP_ALIVE_THRESHOLD_MS = 1000;

/**
 * Reuse mode: whether the connection that carried these response headers can still be open at the next probe,
 * `intervalMs` later. Not when the server says `Connection: close`, nor when its `Keep-Alive: timeout` hint (less
 * our threshold) ends before then: undici would drop it anyway (at once or when idle), through an error whose
 * stack Node formats eagerly. `raw` is undici's flat [name, value, name, value, ...] list.
 */
export function connectionOutlivesInterval(raw: readonly Buffer[] | undefined, intervalMs: number): boolean {
  if (!raw) return true;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    // Only `connection` and `keep-alive` matter, both 10 bytes long: most headers are skipped on their length.
    if (name?.length !== 10) continue;
    const lower = name.toString('latin1').toLowerCase();
    const value = raw[i + 1]?.toString('latin1').toLowerCase() ?? '';
    if (lower === 'connection' && value.split(',').some((t) => t.trim() === 'close')) return false;
    if (lower === 'keep-alive') {
      const m = /(?:^|[\s,])timeout\s*=\s*(\d+)/.exec(value);
      if (m && Number(m[1]) * 1000 - KEEP_ALIVE_THRESHOLD_MS < intervalMs) return false;
    }
  }
  return true;
}

type Phase = 'connect' | 'response' | 'body';

function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** SNI may only carry a host name (RFC 6066), never an address literal. */
function sniFor(spec: HttpCheckSpec): string | undefined {
  if (spec.tls?.sni) return spec.tls.sni;
  const host = spec.host?.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host && isIP(host) === 0 ? host : undefined;
}

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What the probes of one checker (one real server) share. One class for every checker, so undici's calls into it stay monomorphic. */
class HttpChecker {
  readonly sockets = new Set<Socket>();
  /** TCP connected but TLS not yet done (https only): names the phase when the total deadline hits. */
  handshaking = false;
  /** Fails the connect in progress (our timer, or the probe's deadline); undefined when none is. */
  failConnect: ((err: Error) => void) | undefined = undefined;
  /** Responses completed on the newest connection: above 0, a request on it is on a reused connection. */
  servedOnSocket = 0;
  client: Client | undefined = undefined;
  /** The newest probe; a new probe cuts what it left unread. */
  current: Attempt | undefined = undefined;
  closed = false;
  clientOptions!: Client.Options;
  /**
   * The caller's abort signal, listened on once for all the probes made with it: the scheduler passes the
   * same signal to every run of a check, and an add/remove of a listener per probe showed in the profile.
   */
  watched: AbortSignal | undefined = undefined;

  constructor(
    readonly spec: HttpCheckSpec,
    readonly origin: string,
    readonly timeoutMs: number,
    readonly maxBody: number,
    readonly reuse: boolean,
    readonly wantBody: boolean,
    readonly regex: RegExp | undefined,
    readonly requestOptions: Dispatcher.DispatchOptions,
  ) {}

  dispatch(attempt: Attempt): void {
    this.client ??= new Client(this.origin, this.clientOptions);
    this.client.dispatch(this.requestOptions, attempt);
  }

  /**
   * Listen on `signal` from now on (none: undefined), letting go of the previous one. A probe still in flight
   * with another signal (a caller not waiting for it) is then ended by its deadline, not by that signal.
   */
  watch(signal: AbortSignal | undefined): void {
    if (signal === this.watched) return;
    this.watched?.removeEventListener('abort', this);
    this.watched = signal;
    signal?.addEventListener('abort', this, ONCE);
  }

  /** `watched` aborted (the scheduler stopping): end the probe in flight. An EventListener object, so no closure. */
  handleEvent(): void {
    this.watched = undefined; // a once listener: already removed
    this.current?.stop();
  }

  destroySockets(err?: Error): void {
    for (const s of this.sockets) s.destroy(err);
  }

  /** Close the connection (and any connect in progress); the Client stays and reconnects on the next request. */
  dropConnection(err: Error): void {
    this.failConnect?.(err);
    this.destroySockets();
  }

  /** Throw the Client away (its queue with it); the next probe makes a new one. For the rare paths only. */
  dropClient(err: Error): void {
    this.dropConnection(err);
    const c = this.client;
    this.client = undefined;
    c?.destroy(err).catch(() => undefined);
  }
}

const ONCE = { once: true } as const;

function attemptDeadline(attempt: Attempt): void {
  attempt.onDeadline();
}

/** One probe: the undici dispatch handler (legacy callback form), the deadline, the verdict. */
class Attempt implements Dispatcher.DispatchHandler {
  readonly start = performance.now();
  phase: Phase = 'connect';
  status = 0;
  settled = false;
  /** undici finished with the request (complete or errored). */
  ended = false;
  /** Sent on a connection that had already served a response (reuse only). */
  onReused = false;
  retried = false;
  /** Reuse mode: the final response's headers let the connection live until the next probe. */
  keepConnection = true;
  received = 0;
  truncated = false;
  chunks: Buffer[] | undefined = undefined;
  abortRequest: ((err?: Error) => void) | undefined = undefined;
  timer: NodeJS.Timeout;

  constructor(
    private readonly c: HttpChecker,
    private readonly resolve: (r: ProbeResult) => void,
  ) {
    this.timer = setTimeout(attemptDeadline, c.timeoutMs, this);
    c.dispatch(this);
  }

  // --- undici handler callbacks (a stale attempt, already settled, only lets go of the connection) ---

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    this.phase = 'response';
    this.onReused = this.c.reuse && this.c.servedOnSocket > 0;
  }

  onHeaders(statusCode: number, headers?: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: the final response follows
    this.status = statusCode;
    if (this.c.reuse) this.keepConnection = connectionOutlivesInterval(headers, this.c.spec.intervalMs);
    if (this.settled) return true;
    if (!statusMatches(statusCode, this.c.spec.expect.status)) {
      this.finish(false, `HTTP ${statusCode}`);
    } else if (!this.c.wantBody) {
      this.finish(true, `HTTP ${statusCode}`);
    } else {
      this.phase = 'body';
      this.chunks = [];
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled || !this.chunks) return true;
    const room = this.c.maxBody - this.received;
    if (chunk.length > room) {
      this.chunks.push(chunk.subarray(0, room));
      this.received += room;
      this.truncated = true;
      this.judgeBody(); // enough read: the rest is cut off by the deadline or the next probe (pausing undici's parser here trips its asserts)
      return true;
    }
    this.chunks.push(chunk);
    this.received += chunk.length;
    return true;
  }

  onComplete(): void {
    this.ended = true;
    this.c.servedOnSocket++;
    // Fresh mode, or a reused connection the server will not keep until the next probe: close it here, before
    // undici does. undici would destroy it with an InformationalError whose stack trace Node formats eagerly,
    // which cost more than the rest of the response handling.
    if (!this.c.reuse || !this.keepConnection) this.c.destroySockets(CLOSED_AFTER_RESPONSE);
    if (!this.settled) this.judgeBody();
    else this.release();
  }

  onError(err: Error): void {
    this.ended = true;
    if (this.settled) return this.release();
    if (this.onReused && !this.retried && this.phase === 'response' && STALE_CONNECTION_CODES.has(errCode(err) ?? '')) {
      // The server closed the idle keep-alive connection as we sent: not a verdict, ask once on a fresh one.
      this.retried = true;
      this.onReused = false;
      this.ended = false;
      this.abortRequest = undefined;
      this.phase = 'connect';
      this.c.servedOnSocket = 0;
      this.c.dispatch(this);
      return;
    }
    if (errCode(err) === CONNECT_TIMEOUT_CODE) this.finish(false, err.message);
    else this.finish(false, socketErrorReason(err));
  }

  // --- our side ---

  /** The caller's signal aborted (the scheduler stopping). */
  stop(): void {
    if (this.settled) return;
    this.finish(false, STOPPING_REASON);
    this.cut(new Error(STOPPING_REASON));
  }

  judgeBody(): void {
    const verdict = bodyVerdict(Buffer.concat(this.chunks ?? []), this.truncated, this.c.spec.expect, this.c.regex);
    this.chunks = undefined;
    if (verdict) this.finish(false, verdict);
    else this.finish(true, `HTTP ${this.status}`);
  }

  onDeadline(): void {
    if (this.settled) return this.cut(new Error('response not needed'));
    const ms = this.c.spec.timeoutMs;
    let reason: string;
    if (this.phase === 'connect') reason = `${this.c.handshaking ? 'TLS handshake timeout' : 'connect timeout'} after ${ms} ms`;
    else if (this.phase === 'response') reason = `timeout after ${ms} ms waiting for response headers`;
    else reason = `timeout after ${ms} ms reading body (${this.received} bytes received)`;
    this.finish(false, reason);
    this.cut(new Error(reason));
  }

  /**
   * Resolve the probe once. When undici is not done with the response (a verdict on the status alone, a
   * capped body), the deadline timer keeps running and cuts the rest off, unless it ends first or the next
   * probe of this checker starts (which cuts it at once).
   */
  finish(ok: boolean, reason: string): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve({ ok, latencyMs: elapsedSince(this.start), reason });
    if (this.ended) this.release();
    else if (this.c.reuse && !ok) this.cut(new Error(reason)); // a failure closes a reused connection at once
  }

  /** Settled and ended: stop the timer; a reused connection stays open only after a good response. */
  release(): void {
    clearTimeout(this.timer);
    if (this.c.reuse && !this.goodStatus()) this.c.destroySockets();
  }

  goodStatus(): boolean {
    return this.status >= 200 && statusMatches(this.status, this.c.spec.expect.status);
  }

  /** End this request and its connection now (a request not yet on a connection: the whole Client). */
  cut(err: Error): void {
    clearTimeout(this.timer);
    if (this.ended) return;
    this.ended = true;
    if (this.abortRequest) {
      this.abortRequest(err);
      this.c.dropConnection(err);
    } else {
      this.c.dropClient(err);
    }
  }
}

export function createHttpProber(spec: HttpCheckSpec, target: CheckTarget): Prober {
  const endpoint = spec.connect ?? { address: target.address, port: target.port };
  const scheme = spec.type === 'https' ? 'https' : 'http';
  const connectTimeoutMs = Math.min(spec.connectTimeoutMs ?? spec.timeoutMs, spec.timeoutMs);
  const timeoutMs = Math.max(1, spec.timeoutMs);
  const reuse = spec.reuseConnection === true;
  let regex: RegExp | undefined;
  try {
    regex = spec.expect.bodyRegex !== undefined ? new RegExp(spec.expect.bodyRegex) : undefined;
  } catch (err) {
    throw new Error(`${spec.type} check of ${target.address}:${target.port}: expect.bodyRegex: ${(err as Error).message}`);
  }
  const servername = spec.type === 'https' ? sniFor(spec) : undefined;
  const headers: Record<string, string> = { ...spec.headers, 'user-agent': spec.headers['user-agent'] ?? 'lvskeep-health' };
  if (spec.host) headers.host = spec.host;
  // One options object for every request of this checker (undici copies what it needs).
  const requestOptions: Dispatcher.DispatchOptions = {
    path: spec.path,
    method: spec.method as Dispatcher.HttpMethod,
    headers,
    reset: !reuse, // fresh mode: `connection: close`, and undici drops the socket after this response
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(servername ? { servername } : {}),
  };
  const c = new HttpChecker(
    spec,
    `${scheme}://${urlHost(endpoint.address)}:${endpoint.port}`,
    timeoutMs,
    spec.maxBodyBytes ?? DEFAULT_MAX_BODY,
    reuse,
    needsBody(spec.expect),
    regex,
    requestOptions,
  );

  const base = buildConnector({
    timeout: 0, // disabled: undici's coarse connect timer is replaced by the exact one below
    keepAlive: false,
    maxCachedSessions: 0, // no TLS resumption: every new connection must see (and verify) the certificate
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
      c.failConnect = undefined;
      c.handshaking = false;
      if (args[0] === null) c.servedOnSocket = 0;
      callback(...args);
    });
    c.sockets.add(socket);
    socket.once('close', () => c.sockets.delete(socket));
    // For https the connector settles after the TLS handshake; tell a silent TLS peer from an unanswered SYN.
    let tcpUp = false;
    if (spec.type === 'https') {
      socket.once('connect', () => {
        tcpUp = true;
        c.handshaking = true;
      });
    }
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.failConnect = undefined;
      socket.destroy();
      callback(err, null);
    };
    c.failConnect = fail;
    const timer = setTimeout(() => {
      const what = tcpUp ? 'TLS handshake timeout' : 'connect timeout';
      fail(Object.assign(new Error(`${what} after ${connectTimeoutMs} ms`), { code: CONNECT_TIMEOUT_CODE }));
    }, connectTimeoutMs);
  };

  // Idle keep-alive connections (reuse only) live a little over one interval unless the server says shorter.
  const idleMs = Math.max(4000, 2 * spec.intervalMs + timeoutMs);
  c.clientOptions = {
    connect,
    pipelining: 1,
    headersTimeout: 0, // our deadline covers headers and body
    bodyTimeout: 0,
    keepAliveTimeout: idleMs,
    keepAliveMaxTimeout: idleMs,
    // The server's Keep-Alive hint minus 1 s: a close racing our request is retried once, not a failure.
    keepAliveTimeoutThreshold: KEEP_ALIVE_THRESHOLD_MS,
  };

  function probe(signal?: AbortSignal): Promise<ProbeResult> {
    if (c.closed) return Promise.resolve({ ok: false, latencyMs: 0, reason: 'checker closed' });
    if (signal?.aborted) return Promise.resolve({ ok: false, latencyMs: 0, reason: STOPPING_REASON });
    c.handshaking = false;
    // What the previous probe left unread goes now. A previous probe still running (a caller not waiting for it)
    // keeps going: this one queues behind it on the connection. A previous probe that has ended has nothing
    // left to cut (its timer is cleared): no Error then, whose stack capture cost more than the rest of probe().
    if (c.current?.settled && !c.current.ended) c.current.cut(new Error('response not needed'));
    c.watch(signal);
    return new Promise<ProbeResult>((resolve) => {
      c.current = new Attempt(c, resolve);
    });
  }

  return {
    probe,
    close: async () => {
      if (c.closed) return;
      c.closed = true;
      c.watch(undefined);
      const err = new Error('checker closed');
      if (c.current) {
        c.current.finish(false, 'checker closed');
        c.current.cut(err);
      }
      const client = c.client;
      c.dropClient(err);
      await client?.destroy(err).catch(() => undefined);
    },
  };
}
