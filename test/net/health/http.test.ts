import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STOPPING_REASON } from '../../../src/health/deadline.js';
import { createHttpProber } from '../../../src/health/http.js';
import { HealthMonitor } from '../../../src/health/monitor.js';
import type { HttpCheckSpec, Prober } from '../../../src/health/types.js';
import { closedPort, makeCerts, startBlackhole, startHttp, startHttps, type Certs, type RunningHttp, type Seen } from './fixtures.js';

const VS = 'tcp 203.0.113.1:80';
/** Timers fire late under load; deadlines are asserted loosely: at least the bound, at most bound + SLACK. */
const SLACK = 400;

function spec(over: Partial<HttpCheckSpec> = {}): HttpCheckSpec {
  return {
    type: 'http',
    intervalMs: 1000,
    timeoutMs: 1000,
    rise: 1,
    fall: 1,
    retries: 0,
    retryDelayMs: 0,
    assume: 'down',
    jitterPercent: 0,
    method: 'GET',
    path: '/ok',
    expect: { status: [[200, 299]] },
    headers: {},
    ...over,
  };
}

const probers: Prober[] = [];
function prober(s: HttpCheckSpec, port: number, address = '127.0.0.1'): Prober {
  const p = createHttpProber(s, { address, port, virtualServer: VS });
  probers.push(p);
  return p;
}
/** Servers a test started (startKeepAlive): closed after it, after its probers. */
const keepAliveServers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(probers.splice(0).map((p) => p.close()));
  await Promise.all(keepAliveServers.splice(0).map((s) => s.close()));
});

describe('http checker', () => {
  const seen: Seen = { connections: 0 };
  let server: RunningHttp;
  beforeAll(async () => {
    server = await startHttp(seen);
  });
  afterAll(async () => {
    await server.close();
  });

  it('200 is up; sends method, path, default Host, custom headers', async () => {
    const r = await prober(spec({ method: 'HEAD', headers: { 'x-probe': 'yes' } }), server.port).probe();
    expect(r).toMatchObject({ ok: true, reason: 'HTTP 200' });
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(seen).toMatchObject({ method: 'HEAD', url: '/ok', host: `127.0.0.1:${server.port}` });
    expect(seen.headers?.['x-probe']).toBe('yes');
  });

  it('sends the configured virtual host', async () => {
    await prober(spec({ host: 'www.example.test' }), server.port).probe();
    expect(seen.host).toBe('www.example.test');
  });

  it('503 is down with reason "HTTP 503", unless 503 is expected', async () => {
    expect(await prober(spec({ path: '/fail' }), server.port).probe()).toMatchObject({ ok: false, reason: 'HTTP 503' });
    expect(await prober(spec({ path: '/fail', expect: { status: [[200, 299], [503, 503]] } }), server.port).probe()).toMatchObject({ ok: true, reason: 'HTTP 503' });
  });

  it('body regex and digest', async () => {
    expect(await prober(spec({ expect: { status: [], bodyRegex: 'status: ok' } }), server.port).probe()).toMatchObject({ ok: true });
    expect(await prober(spec({ expect: { status: [], bodyRegex: 'healthy' } }), server.port).probe()).toMatchObject({ ok: false, reason: 'body did not match /healthy/' });
    const md5 = createHash('md5').update('status: ok\n').digest('hex');
    expect(await prober(spec({ expect: { status: [], digest: { algorithm: 'md5', hex: md5 } } }), server.port).probe()).toMatchObject({ ok: true });
    const wrong = await prober(spec({ expect: { status: [], digest: { algorithm: 'sha256', hex: '00' } } }), server.port).probe();
    expect(wrong.reason).toMatch(/^body sha256 [0-9a-f]{64} != expected 00$/);
  });

  it('caps the body: a digest of a larger body fails, a regex looks at the first bytes', async () => {
    const capped = spec({ path: '/big', maxBodyBytes: 4096, expect: { status: [], digest: { algorithm: 'md5', hex: '00' } } });
    expect((await prober(capped, server.port).probe()).reason).toMatch(/cap/);
    expect(await prober(spec({ path: '/big', maxBodyBytes: 4096, expect: { status: [], bodyRegex: '^a+$' } }), server.port).probe()).toMatchObject({ ok: true });
  });

  it('a server that never answers hits the total timeout', async () => {
    const r = await prober(spec({ path: '/hang', timeoutMs: 500 }), server.port).probe();
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 500 ms waiting for response headers' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(490);
    expect(r.latencyMs).toBeLessThan(500 + SLACK);
  });

  it('a server trickling headers one byte a second cannot stretch the deadline', async () => {
    const r = await prober(spec({ path: '/slow-headers', timeoutMs: 1500 }), server.port).probe();
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 1500 ms waiting for response headers' });
    expect(r.latencyMs).toBeLessThan(1500 + SLACK);
  });

  it('a server trickling the body one byte a second cannot stretch the deadline', async () => {
    const r = await prober(spec({ path: '/trickle', timeoutMs: 1500, expect: { status: [], bodyRegex: 'done' } }), server.port).probe();
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^timeout after 1500 ms reading body \(\d+ bytes received\)$/);
    expect(r.latencyMs).toBeGreaterThanOrEqual(1490);
    expect(r.latencyMs).toBeLessThan(1500 + SLACK);
  });

  it('without a body expectation the status decides and the trickle is cut off', async () => {
    const r = await prober(spec({ path: '/trickle', timeoutMs: 1500 }), server.port).probe();
    expect(r).toMatchObject({ ok: true, reason: 'HTTP 200' });
    expect(r.latencyMs).toBeLessThan(500);
  });

  it('the next probe cuts what the previous one left unread, then succeeds; close() leaves nothing open', async () => {
    for (const reuseConnection of [false, true]) {
      const p = prober(spec({ path: '/trickle', timeoutMs: 1500, reuseConnection }), server.port);
      for (let i = 0; i < 3; i++) {
        const r = await p.probe();
        expect(r).toMatchObject({ ok: true, reason: 'HTTP 200' });
        expect(r.latencyMs).toBeLessThan(500);
      }
      await p.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(server.open()).toBe(0);
    }
  });

  it('two probes at once on one checker both get their answer, one after the other', async () => {
    for (const reuseConnection of [false, true]) {
      const p = prober(spec({ reuseConnection }), server.port);
      const rs = await Promise.all([p.probe(), p.probe(), p.probe()]);
      expect(rs.map((r) => r.reason)).toEqual(['HTTP 200', 'HTTP 200', 'HTTP 200']);
    }
  });

  it('a connection closed before the response', async () => {
    expect(await prober(spec({ path: '/close' }), server.port).probe()).toMatchObject({ ok: false, reason: 'connection closed by server before a complete response' });
  });

  it('connection refused', async () => {
    expect(await prober(spec(), await closedPort()).probe()).toMatchObject({ ok: false, reason: 'connection refused' });
  });

  it('connect timeout when SYNs go unanswered', async () => {
    const hole = await startBlackhole();
    try {
      const r = await prober(spec({ connectTimeoutMs: 300, timeoutMs: 2000 }), hole.port).probe();
      expect(r).toMatchObject({ ok: false, reason: 'connect timeout after 300 ms' });
      expect(r.latencyMs).toBeGreaterThanOrEqual(290);
      expect(r.latencyMs).toBeLessThan(300 + SLACK);
      const total = await prober(spec({ timeoutMs: 400 }), hole.port).probe();
      expect(total).toMatchObject({ ok: false, reason: 'connect timeout after 400 ms' });
    } finally {
      await hole.close();
    }
  });

  it('connect override probes another endpoint than the real server', async () => {
    const dead = await closedPort();
    const p = prober(spec({ connect: { address: '127.0.0.1', port: server.port } }), dead);
    expect(await p.probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
  });

  it('binds the source address; an address not on this host is refused locally', async () => {
    expect(await prober(spec({ bindAddress: '127.0.0.1' }), server.port).probe()).toMatchObject({ ok: true });
    expect(await prober(spec({ bindAddress: '192.0.2.250' }), server.port).probe()).toMatchObject({ ok: false, reason: 'source address not available' });
  });

  it('IPv6 loopback', async () => {
    const v6 = await startHttp(seen, '::1');
    try {
      expect(await prober(spec(), v6.port, '::1').probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
      expect(seen.host).toBe(`[::1]:${v6.port}`);
    } finally {
      await v6.close();
    }
  });

  it('leaves no connection open between probes', async () => {
    const before = seen.connections;
    const p = prober(spec(), server.port);
    for (let i = 0; i < 20; i++) expect((await p.probe()).ok).toBe(true);
    expect(seen.connections - before).toBe(20);
    // The request asks the server to close: the server closes first, so TIME_WAIT stays on its side, not in the
    // director's port space (without the header, 300 checks left 300 TIME_WAIT entries on the checker's side).
    expect(seen.headers?.connection).toBe('close');
    await new Promise((r) => setTimeout(r, 50));
    expect(server.open()).toBe(0);
  });

  it('an invalid body regex is refused when the checker is made, naming the field', () => {
    expect(() => prober(spec({ expect: { status: [], bodyRegex: '(' } }), server.port)).toThrow(/^http check of 127\.0\.0\.1:\d+: expect\.bodyRegex: Invalid regular expression/);
  });

  it('a closed prober refuses to probe', async () => {
    const p = prober(spec(), server.port);
    await p.close();
    expect(await p.probe()).toMatchObject({ ok: false, reason: 'checker closed' });
  });

  it('one signal for many probes (as the scheduler passes): listeners do not pile up on it, abort ends the probe in flight, close() removes it', async () => {
    for (const reuseConnection of [false, true]) {
      const ctl = new AbortController();
      const good = prober(spec({ reuseConnection }), server.port);
      for (let i = 0; i < 3; i++) expect(await good.probe(ctl.signal)).toMatchObject({ ok: true, reason: 'HTTP 200' });
      expect(getEventListeners(ctl.signal, 'abort').length).toBeLessThanOrEqual(1); // none pile up over probes
      const hung = prober(spec({ path: '/hang', timeoutMs: 10_000, reuseConnection }), server.port);
      const pending = hung.probe(ctl.signal);
      await new Promise((r) => setTimeout(r, 50));
      ctl.abort(new Error('check stopped'));
      expect(await pending).toMatchObject({ ok: false, reason: STOPPING_REASON });
      expect(await good.probe(ctl.signal)).toMatchObject({ ok: false, reason: STOPPING_REASON });
      const other = new AbortController();
      expect(await good.probe(other.signal)).toMatchObject({ ok: true });
      await good.close();
      expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
    }
  });
});

/**
 * A raw HTTP/1.1 keep-alive server whose behaviour depends on the request's position on its connection
 * (1 = first request on a new connection): answer 200, close the connection without answering, or hang.
 * `headers`: extra response header lines, each ending in CRLF.
 */
async function startKeepAlive(onRequest: (nthOnConnection: number) => 'answer' | 'close' | 'hang', idleCloseMs?: number, headers = '') {
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    let n = 0;
    let idle: NodeJS.Timeout | undefined;
    s.on('close', () => clearTimeout(idle));
    s.on('data', (d) => {
      clearTimeout(idle);
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        buf = buf.slice(end + 4);
        requests++;
        const what = onRequest(++n);
        if (what === 'answer') s.write(`HTTP/1.1 200 OK\r\ncontent-length: 3\r\n${headers}\r\nok\n`);
        else if (what === 'close') s.destroy();
      }
      // Like a server's keep-alive timeout, without announcing it in a Keep-Alive header.
      if (idleCloseMs !== undefined) idle = setTimeout(() => s.end(), idleCloseMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const running = {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests: () => requests,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  keepAliveServers.push(running);
  return running;
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('http checker, reuse_connection', () => {
  const seen: Seen = { connections: 0 };
  let server: RunningHttp;
  beforeAll(async () => {
    server = await startHttp(seen);
  });
  afterAll(async () => {
    await server.close();
  });

  it('one connection serves every probe; closing the checker closes it', async () => {
    const before = seen.connections;
    const p = prober(spec({ reuseConnection: true }), server.port);
    for (let i = 0; i < 20; i++) expect(await p.probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
    expect(seen.connections - before).toBe(1);
    expect(seen.headers?.connection).not.toBe('close');
    await p.close();
    await settle();
    expect(server.open()).toBe(0);
  });

  it('a failed probe closes the connection: the next probe reconnects', async () => {
    const before = seen.connections;
    const ok = prober(spec({ reuseConnection: true }), server.port);
    expect((await ok.probe()).ok).toBe(true);
    const failing = prober(spec({ reuseConnection: true, path: '/fail' }), server.port);
    for (let i = 0; i < 3; i++) expect(await failing.probe()).toMatchObject({ ok: false, reason: 'HTTP 503' });
    expect((await ok.probe()).ok).toBe(true);
    expect(seen.connections - before).toBe(4); // ok: 1 kept; failing: 1 per probe
  });

  it('a hung server on a reused connection still times out, and the next probe reconnects', async () => {
    let hang = false;
    const ka = await startKeepAlive(() => (hang ? 'hang' : 'answer'));
    const p = prober(spec({ reuseConnection: true, timeoutMs: 400 }), ka.port);
    expect((await p.probe()).ok).toBe(true);
    expect((await p.probe()).ok).toBe(true);
    expect(ka.connections()).toBe(1);
    hang = true;
    const r = await p.probe();
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 400 ms waiting for response headers' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(390);
    expect(r.latencyMs).toBeLessThan(400 + SLACK);
    hang = false;
    expect((await p.probe()).ok).toBe(true);
    expect(ka.connections()).toBe(2);
    await settle();
    expect(ka.open()).toBe(1);
  });

  it('a server closing a kept connection when the next request comes is not a failure (retried once on a new one)', async () => {
    // Answers the first request of every connection, drops the connection on the second (an idle-timeout race).
    const ka = await startKeepAlive((n) => (n === 1 ? 'answer' : 'close'));
    const p = prober(spec({ reuseConnection: true }), ka.port);
    for (let i = 0; i < 5; i++) expect(await p.probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
    expect(ka.connections()).toBe(5);
    expect(ka.requests()).toBe(9); // 1 + 4 x (refused on the old connection + answered on a new one)
  });

  it('a server that closes idle keep-alive connections gives no false failures', async () => {
    const ka = await startKeepAlive(() => 'answer', 30);
    const p = prober(spec({ reuseConnection: true }), ka.port);
    for (let i = 0; i < 4; i++) {
      expect(await p.probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
      await settle(80); // the server has closed the idle connection by now
    }
    expect(ka.connections()).toBe(4);
    expect(ka.requests()).toBe(4);
  });

  it('a server whose Keep-Alive hint ends before the next probe: a new connection per probe, the checker closes each after its response', async () => {
    // node's http server with keepAliveTimeout 1000 answers so; the checks run every second.
    const ka = await startKeepAlive(() => 'answer', undefined, 'Connection: keep-alive\r\nKeep-Alive: timeout=1\r\n');
    const p = prober(spec({ reuseConnection: true, intervalMs: 1000 }), ka.port);
    for (let i = 0; i < 3; i++) {
      expect(await p.probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
      await settle();
      expect(ka.open()).toBe(0); // this server never closes: the checker did
    }
    expect(ka.connections()).toBe(3);
    expect(ka.requests()).toBe(3);
  });

  it('a server whose Keep-Alive hint outlasts the interval keeps one connection', async () => {
    const ka = await startKeepAlive(() => 'answer', undefined, 'Keep-Alive: timeout=5\r\n');
    const p = prober(spec({ reuseConnection: true, intervalMs: 1000 }), ka.port);
    for (let i = 0; i < 3; i++) expect(await p.probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
    await settle();
    expect(ka.connections()).toBe(1);
    expect(ka.open()).toBe(1);
  });

  it('a server that drops every connection before answering is down, retried at most once', async () => {
    const ka = await startKeepAlive(() => 'close');
    const p = prober(spec({ reuseConnection: true }), ka.port);
    for (let i = 0; i < 3; i++) expect(await p.probe()).toMatchObject({ ok: false, reason: 'connection closed by server before a complete response' });
    expect(ka.requests()).toBe(3);
  });

  it('a monitor stopped (or a check removed) with reused connections, one of them mid-probe, leaves no socket open', async () => {
    let hang = false;
    const ka = await startKeepAlive(() => (hang ? 'hang' : 'answer'));
    let results = 0;
    const m = new HealthMonitor({ onResult: () => results++ });
    const check = (id: string) => ({ id, spec: spec({ reuseConnection: true, intervalMs: 100, timeoutMs: 90, jitterPercent: 0 }), target: { address: '127.0.0.1', port: ka.port, virtualServer: VS } });
    m.add(check('a'));
    m.add(check('b'));
    m.start();
    for (let i = 0; i < 100 && results < 6; i++) await settle(20);
    expect(results).toBeGreaterThanOrEqual(6);
    expect(ka.connections()).toBe(2);
    await m.remove('a'); // a restart of one check: remove, add again
    m.add(check('a'));
    hang = true;
    await settle(30);
    await m.stop();
    await settle();
    expect(ka.open()).toBe(0);
  });
});

describe('https checker', () => {
  let certs: Certs;
  const servers: RunningHttp[] = [];
  const seen: Seen = { connections: 0 };
  beforeAll(() => {
    certs = makeCerts();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  async function https(pair: { key: string; cert: string }): Promise<number> {
    const s = await startHttps(seen, pair);
    servers.push(s);
    return s.port;
  }
  const tls = (over: Partial<NonNullable<HttpCheckSpec['tls']>> = {}): HttpCheckSpec['tls'] => ({ verify: true, ca: certs.ca, sni: 'localhost', ...over });

  it('verifies a good certificate against the CA and sends SNI', async () => {
    const port = await https(certs.good);
    expect(await prober(spec({ type: 'https', tls: tls() }), port).probe()).toMatchObject({ ok: true, reason: 'HTTP 200' });
    expect(seen.servername).toBe('localhost');
  });

  it('takes SNI from the virtual host when none is set', async () => {
    const port = await https(certs.good);
    const r = await prober(spec({ type: 'https', host: 'www.example.test', tls: { verify: true, ca: certs.ca } }), port).probe();
    expect(r).toMatchObject({ ok: true });
    expect(seen.servername).toBe('www.example.test');
  });

  it('an expired certificate is down with a TLS reason, every time (no session resumption)', async () => {
    const port = await https(certs.expired);
    const p = prober(spec({ type: 'https', tls: tls() }), port);
    for (let i = 0; i < 2; i++) expect(await p.probe()).toMatchObject({ ok: false, reason: 'TLS: certificate has expired' });
  });

  it('a self-signed certificate and a wrong name are down', async () => {
    const self = await https(certs.selfSigned);
    expect(await prober(spec({ type: 'https', tls: tls() }), self).probe()).toMatchObject({ ok: false, reason: 'TLS: self-signed certificate' });
    const other = await https(certs.otherName);
    const r = await prober(spec({ type: 'https', tls: tls() }), other).probe();
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^TLS: Hostname\/IP does not match certificate's altnames/);
  });

  it('verify off accepts the expired certificate', async () => {
    const port = await https(certs.expired);
    expect(await prober(spec({ type: 'https', tls: tls({ verify: false }) }), port).probe()).toMatchObject({ ok: true });
  });

  it('a peer that accepts TCP but never answers the TLS handshake', async () => {
    const mute = createServer(() => undefined);
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as AddressInfo).port;
    try {
      const r = await prober(spec({ type: 'https', tls: tls(), connectTimeoutMs: 300 }), port).probe();
      expect(r).toMatchObject({ ok: false, reason: 'TLS handshake timeout after 300 ms' });
      expect(r.latencyMs).toBeLessThan(300 + SLACK);
      const total = await prober(spec({ type: 'https', tls: tls(), timeoutMs: 300 }), port).probe();
      expect(total).toMatchObject({ ok: false, reason: 'TLS handshake timeout after 300 ms' });
    } finally {
      mute.close();
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('plain HTTP against a TLS port fails with a reason', async () => {
    const port = await https(certs.good);
    const r = await prober(spec({ timeoutMs: 800 }), port).probe();
    expect(r.ok).toBe(false);
    expect(r.reason).not.toBe('');
  });
});
