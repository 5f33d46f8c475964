import { request } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEvent } from '../../../src/events/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { applyEvent } from '../../../src/metrics/from-events.js';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.js';
import { parseListen, startMetricsServer, type MetricsServer } from '../../../src/metrics/server.js';
import { parseExposition, valueOf } from '../../unit/metrics/exposition.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function metrics(): Metrics {
  const m = createMetrics();
  cleanups.push(() => m.close());
  return m;
}

async function serve(opts: Partial<Parameters<typeof startMetricsServer>[0]> = {}): Promise<MetricsServer> {
  const s = await startMetricsServer({ listen: '127.0.0.1:0', registry: metrics().registry, logger: silentLogger(), ...opts });
  cleanups.push(() => s.close());
  return s;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with a hard deadline, on a fresh connection. */
function get(url: string, method = 'GET', timeoutMs = 5_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Raw bytes to the server; resolves with everything it sent back before closing (or at the deadline). */
function raw(port: number, bytes: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(err);
    });
    sock.write(bytes);
  });
}

describe('metrics server on loopback', () => {
  it('serves /metrics as valid Prometheus text with the registry content type, showing live updates', async () => {
    const m = metrics();
    const s = await startMetricsServer({ listen: '127.0.0.1:0', registry: m.registry, logger: silentLogger() });
    cleanups.push(() => s.close());
    expect(s.address.address).toBe('127.0.0.1');
    expect(s.address.port).toBeGreaterThan(0);

    applyEvent(m, createEvent({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'x', priority: 100 }, Date.now()));
    const r = await get(`${s.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(m.registry.contentType);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const f = parseExposition(r.body);
    expect(valueOf(f, 'lvskeep_vrrp_state', { instance: 'VI_1', state: 'MASTER' })).toBe(1);
    expect(f.get('lvskeep_process_cpu_user_seconds_total')?.type).toBe('counter');

    // A query string (some scrapers add one) is ignored.
    expect((await get(`${s.url}/metrics?name[]=x`)).status).toBe(200);
  });

  it('answers /healthz with ok, HEAD without a body, and 404 for everything else', async () => {
    const s = await serve();
    const h = await get(`${s.url}/healthz`);
    expect([h.status, h.body]).toEqual([200, 'ok\n']);
    const head = await get(`${s.url}/metrics`, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
    for (const [method, path] of [['GET', '/'], ['GET', '/metricsx'], ['GET', '/metrics/'], ['POST', '/metrics'], ['DELETE', '/healthz'], ['GET', '/../etc/passwd']] as const) {
      expect((await get(`${s.url}${path}`, method)).status, `${method} ${path}`).toBe(404);
    }
  });

  it('survives malformed requests and keeps serving', async () => {
    const s = await serve();
    const bad = await raw(s.address.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400/);
    const hugeHeader = await raw(s.address.port, `GET /metrics HTTP/1.1\r\nx: ${'a'.repeat(100_000)}\r\n\r\n`);
    expect(hugeHeader).toMatch(/^HTTP\/1\.1 431/);
    const binary = await raw(s.address.port, '\x00\x01\x02\xff\r\n\r\n');
    expect(binary).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });

  it('ends a request whose headers never finish (slowloris) within the request timeout', async () => {
    const s = await serve({ requestTimeoutMs: 500 });
    const t0 = Date.now();
    const reply = await raw(s.address.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n', 5_000);
    const took = Date.now() - t0;
    // Node checks request deadlines every connectionsCheckingInterval (30 s by default); ours must be far sooner.
    expect(took).toBeLessThan(4_000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 503 when a scrape takes longer than its deadline', async () => {
    const slow = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8' as const,
      metrics: () => new Promise<string>(() => undefined),
    };
    const s = await startMetricsServer({ listen: '127.0.0.1:0', registry: slow, logger: silentLogger(), scrapeTimeoutMs: 200 });
    cleanups.push(() => s.close());
    const r = await get(`${s.url}/metrics`);
    expect(r.status).toBe(503);
    expect(r.body).toContain('200 ms');
  });

  it('answers 503 (and keeps serving) when the registry throws', async () => {
    const broken = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8' as const,
      metrics: (): Promise<string> => {
        throw new Error('collector exploded');
      },
    };
    const s = await startMetricsServer({ listen: '127.0.0.1:0', registry: broken, logger: silentLogger() });
    cleanups.push(() => s.close());
    const r = await get(`${s.url}/metrics`);
    expect([r.status, r.body]).toEqual([503, 'scrape failed: collector exploded\n']);
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });

  it('refuses a port in use with an error naming the address', async () => {
    const first = await serve();
    const port = first.address.port;
    await expect(startMetricsServer({ listen: `127.0.0.1:${port}`, registry: metrics().registry, logger: silentLogger() })).rejects.toThrow(
      `metrics: cannot listen on 127.0.0.1:${port}: address already in use`,
    );
    // Also against a listener that is not ours.
    const other: TcpServer = createTcpServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => other.close(() => resolve())));
    const taken = (other.address() as { port: number }).port;
    await expect(startMetricsServer({ listen: { address: '127.0.0.1', port: taken }, registry: metrics().registry, logger: silentLogger() })).rejects.toThrow(/EADDRINUSE/);
  });

  it('listens on IPv6 loopback', async (ctx) => {
    let s: MetricsServer;
    try {
      s = await startMetricsServer({ listen: '[::1]:0', registry: metrics().registry, logger: silentLogger() });
    } catch (err) {
      // Hosts (and sandboxes) without IPv6 on lo cannot run this; say so instead of passing silently.
      if (/EADDRNOTAVAIL|EAFNOSUPPORT|not available/.test(String(err))) return ctx.skip();
      throw err;
    }
    cleanups.push(() => s.close());
    expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const r = await get(`${s.url}/metrics`);
    expect(r.status).toBe(200);
    expect(parseExposition(r.body).has('lvskeep_build_info')).toBe(true);
  });

  it('closes promptly even with a keep-alive scraper connected, and close() is idempotent', async () => {
    const s = await startMetricsServer({ listen: '127.0.0.1:0', registry: metrics().registry, logger: silentLogger() });
    const sock = connect({ host: '127.0.0.1', port: s.address.port });
    cleanups.push(() => void sock.destroy());
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise<void>((resolve) => sock.once('data', () => resolve()));
    const t0 = Date.now();
    await Promise.all([s.close(), s.close()]);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(get(`${s.url}/healthz`, 'GET', 1_000)).rejects.toThrow();
  });
});

describe('parseListen', () => {
  it('reads the config forms and names the field on a bad one', () => {
    expect(parseListen('127.0.0.1:9595')).toEqual({ address: '127.0.0.1', port: 9595 });
    expect(parseListen('[::1]:9595')).toEqual({ address: '::1', port: 9595 });
    expect(parseListen({ address: '127.0.0.1', port: 1 })).toEqual({ address: '127.0.0.1', port: 1 });
    expect(parseListen('127.0.0.1:0')).toEqual({ address: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]')).toEqual({ address: '::1', port: 9595 });
    expect(() => parseListen('[::1:9595')).toThrow(/^metrics\.listen: /);
  });
});
