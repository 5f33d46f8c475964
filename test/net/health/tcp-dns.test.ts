import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeQuestion } from '../../../src/health/dns-codec.js';
import { createDnsProber } from '../../../src/health/dns.js';
import { createTcpProber } from '../../../src/health/tcp.js';
import type { CommonCheckSpec, DnsCheckSpec, Prober, TcpCheckSpec } from '../../../src/health/types.js';
import { closedPort, startBlackhole, startDns, startTcp, type DnsBehaviour } from './fixtures.js';

const VS = 'udp 203.0.113.1:53';
const SLACK = 400;
const common: CommonCheckSpec = { intervalMs: 1000, timeoutMs: 500, rise: 1, fall: 1, retries: 0, retryDelayMs: 0, assume: 'down', jitterPercent: 0 };

const probers: Prober[] = [];
afterEach(async () => {
  await Promise.all(probers.splice(0).map((p) => p.close()));
});
function tcp(over: Partial<TcpCheckSpec>, port: number): Prober {
  const p = createTcpProber({ ...common, type: 'tcp', ...over }, { address: '127.0.0.1', port, virtualServer: VS });
  probers.push(p);
  return p;
}
function dns(over: Partial<DnsCheckSpec>, port: number): Prober {
  const p = createDnsProber({ ...common, type: 'dns', name: 'svc.example.test', recordType: 'A', ...over }, { address: '127.0.0.1', port, virtualServer: VS });
  probers.push(p);
  return p;
}

describe('tcp checker', () => {
  let server: Awaited<ReturnType<typeof startTcp>>;
  beforeAll(async () => {
    server = await startTcp();
  });
  afterAll(async () => {
    await server.close();
  });

  it('connect alone is up, and the connection is closed after', async () => {
    expect(await tcp({}, server.port).probe()).toMatchObject({ ok: true, reason: 'connected' });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.open()).toBe(0);
  });
  it('send and expect', async () => {
    expect(await tcp({ send: Buffer.from('PING\r\n'), expect: Buffer.from('PONG') }, server.port).probe()).toMatchObject({ ok: true, reason: 'expected bytes received' });
    expect(await tcp({ expect: Buffer.from('220 ready') }, server.port).probe()).toMatchObject({ ok: true });
  });
  it('expected bytes that never come time out with the count received', async () => {
    const r = await tcp({ expect: Buffer.from('NOPE') }, server.port).probe();
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 500 ms waiting for expected bytes (11 bytes received)' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(490);
    expect(r.latencyMs).toBeLessThan(500 + SLACK);
  });
  it('a server closing before the expected bytes', async () => {
    const bye = createServer((s) => s.end('bye\n'));
    await new Promise<void>((r) => bye.listen(0, '127.0.0.1', r));
    try {
      const r = await tcp({ expect: Buffer.from('hello') }, (bye.address() as AddressInfo).port).probe();
      expect(r).toMatchObject({ ok: false, reason: 'connection closed by server before the expected bytes (4 bytes received)' });
    } finally {
      await new Promise<void>((r) => bye.close(() => r()));
    }
  });
  it('a reply larger than the read cap without the expected bytes', async () => {
    expect(await tcp({ expect: Buffer.from('NOPE'), maxReadBytes: 5 }, server.port).probe()).toMatchObject({ ok: false, reason: 'expected bytes not in the first 5 bytes' });
  });
  it('connection refused and connect timeout', async () => {
    expect(await tcp({}, await closedPort()).probe()).toMatchObject({ ok: false, reason: 'connection refused' });
    const hole = await startBlackhole();
    try {
      const r = await tcp({ timeoutMs: 300 }, hole.port).probe();
      expect(r).toMatchObject({ ok: false, reason: 'connect timeout after 300 ms' });
      expect(r.latencyMs).toBeLessThan(300 + SLACK);
    } finally {
      await hole.close();
    }
  });
  it('connect override and source bind', async () => {
    const dead = await closedPort();
    expect(await tcp({ connect: { address: '127.0.0.1', port: server.port }, bindAddress: '127.0.0.1' }, dead).probe()).toMatchObject({ ok: true });
    expect(await tcp({ bindAddress: '198.51.100.250' }, server.port).probe()).toMatchObject({ ok: false, reason: 'source address not available' });
  });
  it('close() ends an in-flight probe at once', async () => {
    const hole = await startBlackhole();
    try {
      const p = tcp({ timeoutMs: 5000 }, hole.port);
      const pending = p.probe();
      await new Promise((r) => setTimeout(r, 50));
      await p.close();
      const r = await pending;
      expect(r).toMatchObject({ ok: false, reason: 'aborted: check stopped' });
      expect(r.latencyMs).toBeLessThan(1000);
    } finally {
      await hole.close();
    }
  });
});

describe('dns checker', () => {
  let mode: DnsBehaviour = 'answer';
  let server: Awaited<ReturnType<typeof startDns>>;
  beforeAll(async () => {
    server = await startDns(() => mode);
  });
  afterAll(async () => {
    await server.close();
  });

  it('a NOERROR answer is up, and the query asked the configured question', async () => {
    mode = 'answer';
    expect(await dns({ recordType: 'AAAA' }, server.port).probe()).toMatchObject({ ok: true, reason: 'DNS NOERROR' });
    const q = server.queries.at(-1);
    expect(q && decodeQuestion(q, 12)).toMatchObject({ ok: true, value: { name: 'svc.example.test', type: 28, class: 1 } });
  });
  it('NXDOMAIN is down', async () => {
    mode = 'nxdomain';
    expect(await dns({}, server.port).probe()).toMatchObject({ ok: false, reason: 'DNS NXDOMAIN' });
  });
  it('ignores an answer with another id and takes the right one', async () => {
    mode = 'wrong-id-then-answer';
    expect(await dns({}, server.port).probe()).toMatchObject({ ok: true });
  });
  it('silence and garbage time out', async () => {
    for (const m of ['silent', 'garbage'] as const) {
      mode = m;
      const r = await dns({ timeoutMs: 300 }, server.port).probe();
      expect(r).toMatchObject({ ok: false, reason: 'no DNS answer within 300 ms' });
      expect(r.latencyMs).toBeGreaterThanOrEqual(290);
      expect(r.latencyMs).toBeLessThan(300 + SLACK);
    }
  });
  it('a closed port is refused (ICMP port unreachable)', async () => {
    expect(await dns({}, await closedPort()).probe()).toMatchObject({ ok: false, reason: 'connection refused' });
  });
  it('an invalid name fails without sending', async () => {
    const before = server.queries.length;
    expect((await dns({ name: 'a..b' }, server.port).probe()).reason).toMatch(/empty label/);
    expect(server.queries.length).toBe(before);
  });
});
