import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A real HTTP server on 127.0.0.1 that records every request and answers as the test scripts it. */
export class Receiver {
  readonly received: Received[] = [];
  private server: Server;
  private sockets = new Set<import('node:net').Socket>();
  private hanging: ServerResponse[] = [];
  answer: (r: Received, index: number) => Answer = () => ({ status: 200, body: 'ok' });

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(r);
        const a = this.answer(r, this.received.length - 1);
        if (a === 'hang') {
          this.hanging.push(res);
          return;
        }
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? '');
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  json(i: number): Record<string, unknown> {
    const r = this.received[i];
    if (!r) throw new Error(`receiver has no request #${i} (got ${this.received.length})`);
    return JSON.parse(r.body) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Poll until `cond` holds or `ms` passes (bounded in both count and time). */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
