/**
 * The scrape endpoint: `GET /metrics` (the registry's text format), `GET /healthz` (`ok`), 404 for anything
 * else. Every request and every scrape has a deadline, malformed requests get a 400 from Node's parser and
 * never reach us, and a handler failure answers 500 instead of throwing: a monitoring endpoint must never be
 * what takes the daemon down.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { parseEndpoint } from '../config/address.js';
import type { Logger } from '../log/logger.js';
import { errnoCode, errorMessage } from '../util/errors.js';

export interface ListenAddress {
  address: string;
  port: number;
}

export interface MetricsServerOptions {
  /** `127.0.0.1:9595`, `[::1]:9595`, or the config's endpoint object. Port 0 picks a free port (tests). */
  listen: string | ListenAddress;
  registry: Pick<Registry, 'metrics' | 'contentType'>;
  logger: Logger;
  /** Whole request (headers and body) deadline; default 10 s. */
  requestTimeoutMs?: number;
  /** Longest a scrape may take before the answer is 503; default 10 s. */
  scrapeTimeoutMs?: number;
}

export interface MetricsServer {
  /** The bound address (with the real port when 0 was asked for). */
  readonly address: ListenAddress;
  /** `http://127.0.0.1:9595`, `http://[::1]:9595`. */
  readonly url: string;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_METRICS_LISTEN: ListenAddress = { address: '127.0.0.1', port: 9595 };

function hostPort(a: ListenAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function parseListen(listen: string | ListenAddress): ListenAddress {
  if (typeof listen !== 'string') return { address: listen.address, port: listen.port };
  // Port 0 (any free port) is not a valid configured port, but tests and embedders need it.
  const anyPort = /:0$/.test(listen.trim());
  const parsed = parseEndpoint(anyPort ? listen.trim().replace(/:0$/, ':1') : listen, { defaultPort: DEFAULT_METRICS_LISTEN.port });
  if (!parsed.ok) throw new Error(`metrics.listen: ${parsed.message}`);
  return { address: parsed.value.address, port: anyPort ? 0 : parsed.value.port };
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use (another lvskeep or exporter?)',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied',
};

function scrapeWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scrape took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const want = parseListen(opts.listen);
  const { registry, logger } = opts;
  const scrapeTimeoutMs = opts.scrapeTimeoutMs ?? 10_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;

  const answer = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', head = false): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? '';
    // Only the path matters; a query string (some scrapers add one) is ignored.
    const path = (req.url ?? '').split('?', 1)[0];
    const head = method === 'HEAD';
    if (method !== 'GET' && !head) return answer(res, 404, 'not found\n');
    if (path === '/healthz') return answer(res, 200, 'ok\n', undefined, head);
    if (path !== '/metrics') return answer(res, 404, 'not found\n');
    try {
      const text = await scrapeWithin(registry.metrics(), scrapeTimeoutMs);
      answer(res, 200, text, registry.contentType, head);
    } catch (err) {
      logger.error({ err: errorMessage(err), listen: hostPort(want) }, 'metrics scrape failed');
      answer(res, 503, `scrape failed: ${errorMessage(err)}\n`);
    }
  };

  const server = createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 10_000),
    // Node enforces the two deadlines above only when it sweeps connections (every 30 s by default), which
    // would let a client that never finishes its headers hold a socket that long.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
  }, (req, res) => {
    // Requests carry no body we want; drain whatever arrives so the socket can be reused.
    req.resume();
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: errorMessage(err) }, 'metrics request failed');
      answer(res, 500, 'internal error\n');
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Bad request line or headers, or a timeout: answer when the socket still can, then drop it.
    logger.debug({ err: err.code ?? errorMessage(err) }, 'metrics: bad client request');
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown): void => {
      server.off('listening', onListening);
      const code = errnoCode(err);
      const why = (code && LISTEN_ERRORS[code]) ?? errorMessage(err);
      reject(new Error(`metrics: cannot listen on ${hostPort(want)}: ${why}${code ? ` (${code})` : ''}`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: want.address, port: want.port, exclusive: true });
  });
  server.on('error', (err) => logger.error({ err: errorMessage(err), listen: hostPort(want) }, 'metrics server error'));

  const bound = server.address() as AddressInfo;
  const address: ListenAddress = { address: bound.address, port: bound.port };
  logger.info({ listen: hostPort(address) }, 'metrics endpoint listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    url: `http://${hostPort(address)}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of a scraper would hold close() open for keepAliveTimeout.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
