/**
 * Servers and certificates for the checker network tests. Everything listens on 127.0.0.1 port 0 and is
 * closed by the returned `close()`; certificates are made at test time with openssl in a private temp dir.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certs {
  ca: string;
  /** Signed by `ca`, SAN localhost + 127.0.0.1, valid now. */
  good: { key: string; cert: string };
  /** Signed by `ca`, expired yesterday. */
  expired: { key: string; cert: string };
  /** Self-signed, not from `ca`. */
  selfSigned: { key: string; cert: string };
  /** Signed by `ca` for other.example only. */
  otherName: { key: string; cert: string };
}

export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'lvskeep-certs-'));
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=lvskeep test CA', '-days', '2');
    const leaf = (name: string, san: string, days: string): { key: string; cert: string } => {
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
      ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', days, '-extfile', `${name}.ext`, '-out', `${name}.crt`);
      return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.crt`), 'utf8') };
    };
    const good = leaf('good', 'DNS:localhost,DNS:www.example.test,IP:127.0.0.1', '2');
    const expired = leaf('expired', 'DNS:localhost,IP:127.0.0.1', '-1'); // notAfter one day before now
    const otherName = leaf('other', 'DNS:other.example', '2');
    ssl('req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-subj', '/CN=localhost', '-days', '2', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
    const selfSigned = { key: readFileSync(join(dir, 'self.key'), 'utf8'), cert: readFileSync(join(dir, 'self.crt'), 'utf8') };
    return { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), good, expired, selfSigned, otherName };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Running {
  port: number;
  close(): Promise<void>;
}

export interface RunningHttp extends Running {
  /** Connections the server still has open. */
  open(): number;
}

/** What the test HTTP server saw, for asserting on method, Host, headers and SNI. */
export interface Seen {
  method?: string;
  url?: string;
  host?: string;
  headers?: IncomingMessage['headers'];
  servername?: string;
  connections: number;
}

/**
 * Routes: /ok (200 "status: ok"), /fail (503), /hang (never answers), /close (drops the connection),
 * /trickle (200, then one body byte a second), /slow-headers (status line a byte a second), /big (1 MiB).
 */
export function handler(seen: Seen, timers: Set<NodeJS.Timeout>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    seen.method = req.method;
    seen.url = req.url;
    seen.host = req.headers.host;
    seen.headers = req.headers;
    const sock = req.socket as Socket & { servername?: string | false };
    if (typeof sock.servername === 'string') seen.servername = sock.servername;
    const path = (req.url ?? '/').split('?')[0];
    const drip = (write: () => boolean): void => {
      let n = 0;
      const t = setInterval(() => {
        if (n++ > 30 || res.destroyed || !write()) {
          clearInterval(t);
          timers.delete(t);
        }
      }, 1000);
      timers.add(t);
    };
    switch (path) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('status: ok\n');
        return;
      case '/fail':
        res.writeHead(503).end('down for maintenance\n');
        return;
      case '/hang':
        return;
      case '/close':
        req.socket.destroy();
        return;
      case '/trickle':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('s');
        drip(() => res.write('x'));
        return;
      case '/slow-headers': {
        const raw = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
        let i = 0;
        drip(() => {
          if (i >= raw.length) return false;
          req.socket.write(raw[i++] ?? '');
          return true;
        });
        return;
      }
      case '/big':
        res.writeHead(200).end(Buffer.alloc(1024 * 1024, 0x61));
        return;
      default:
        res.writeHead(404).end();
    }
  };
}

async function listen(server: Server, timers: Set<NodeJS.Timeout>, seen: Seen, host = '127.0.0.1'): Promise<RunningHttp> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    seen.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => sockets.size,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startHttp(seen: Seen, host = '127.0.0.1'): Promise<RunningHttp> {
  const timers = new Set<NodeJS.Timeout>();
  return listen(createHttpServer(handler(seen, timers)), timers, seen, host);
}

export async function startHttps(seen: Seen, pair: { key: string; cert: string }): Promise<RunningHttp> {
  const timers = new Set<NodeJS.Timeout>();
  return listen(createHttpsServer({ key: pair.key, cert: pair.cert }, handler(seen, timers)), timers, seen);
}

/** TCP: greets with "220 ready\r\n" on connect, echoes "PONG" to "PING". */
export async function startTcp(): Promise<RunningHttp> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write('220 ready\r\n');
    s.on('data', (d) => {
      if (d.includes('PING')) s.write('PONG\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A port whose SYNs are dropped: a child process listens with backlog 1 and blocks its event loop, so it
 * never accepts; two filler connections fill the accept queue and the kernel then drops new SYNs.
 */
export async function startBlackhole(): Promise<Running> {
  const code = `
    const s = require('node:net').createServer();
    s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      process.stdout.write(s.address().port + '\\n', () => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
        process.exit(0);
      });
    });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('blackhole listener did not start in 10 s')), 10_000);
    child.stdout?.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(d.toString().trim()));
    });
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    },
  };
}

/** A port with nothing listening (bound then closed). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type DnsBehaviour = 'answer' | 'nxdomain' | 'wrong-id-then-answer' | 'silent' | 'garbage';

/** A tiny DNS server: echoes the question back as a response, shaped by `behaviour()`. */
export async function startDns(behaviour: () => DnsBehaviour): Promise<Running & { queries: Buffer[] }> {
  const socket: UdpSocket = createSocket('udp4');
  const queries: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    queries.push(msg);
    if (msg.length < 12) return;
    const reply = (rcode: number, id?: number): void => {
      const r = Buffer.from(msg);
      r.writeUInt16BE(0x8180 | rcode, 2);
      if (id !== undefined) r.writeUInt16BE(id, 0);
      socket.send(r, rinfo.port, rinfo.address);
    };
    switch (behaviour()) {
      case 'answer':
        return reply(0);
      case 'nxdomain':
        return reply(3);
      case 'wrong-id-then-answer':
        reply(0, (msg.readUInt16BE(0) + 1) & 0xffff);
        return reply(0);
      case 'garbage':
        socket.send(Buffer.from([1, 2, 3]), rinfo.port, rinfo.address);
        return;
      case 'silent':
        return;
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    queries,
    close: async () => {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
