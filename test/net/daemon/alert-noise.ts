// Fixture for alerts-vs-vrrp.test.ts, run inside the director's namespace next to `lvskeep run`:
//   node --import tsx alert-noise.ts HANG_HTTP_PORT HANG_TCP_PORT FAIL_PORT RS_PORT FLAP_MS MAX_SECONDS RS_ADDRESS...
// - HANG_HTTP_PORT: an HTTP receiver that reads each request and never answers;
// - HANG_TCP_PORT: a TCP listener that accepts and never reads or writes;
// - FAIL_PORT: an HTTP receiver that answers every request with 500;
// - RS_ADDRESS:RS_PORT real servers (loopback) answering 200, each stopped and started every FLAP_MS (staggered), so
//   the daemon's checks keep producing rs.down/rs.up events, IPVS weight changes and alerts.
// Prints {"event":"listening"} once everything listens, {"event":"counts",...} every second and on SIGTERM, and exits
// by itself after MAX_SECONDS so that a crashed test cannot leave it behind.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

const [hangHttpText, hangTcpText, failText, rsPortText, flapText, maxText, ...rsAddresses] = process.argv.slice(2);
const print = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const port = (text: string | undefined, what: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    print({ event: 'error', error: `${what}: expected a port, got ${JSON.stringify(text)}` });
    process.exit(2);
  }
  return n;
};

const hangHttpPort = port(hangHttpText, 'HANG_HTTP_PORT');
const hangTcpPort = port(hangTcpText, 'HANG_TCP_PORT');
const failPort = port(failText, 'FAIL_PORT');
const rsPort = port(rsPortText, 'RS_PORT');
const flapMs = Number(flapText);
const maxSeconds = Number(maxText);
if (!(flapMs >= 50) || !(maxSeconds > 0) || rsAddresses.length === 0) {
  print({ event: 'error', error: 'usage: alert-noise.ts HANG_HTTP_PORT HANG_TCP_PORT FAIL_PORT RS_PORT FLAP_MS(>=50) MAX_SECONDS RS_ADDRESS...' });
  process.exit(2);
}

const counts = { hangHttp: 0, hangTcp: 0, fail: 0, flaps: 0 };
const held: Socket[] = [];

const hangHttp = createHttpServer((req) => {
  counts.hangHttp++;
  req.resume(); // read the body, then never answer
});
// Node's own server timeouts would eventually answer 408 or close; the point here is that it never answers.
hangHttp.requestTimeout = 0;
hangHttp.headersTimeout = 0;
hangHttp.keepAliveTimeout = 0;
hangHttp.on('connection', (s: Socket) => held.push(s));

const hangTcp = createTcpServer((s) => {
  counts.hangTcp++;
  s.pause(); // accepted, never read: the sender's request sits in the socket buffers
  held.push(s);
});

const fail = createHttpServer((req, res) => {
  counts.fail++;
  req.resume();
  req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver broken on purpose\n'));
});

function listen(server: Server | ReturnType<typeof createTcpServer>, p: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** One real server that is up for FLAP_MS, then down for FLAP_MS, and so on. */
class FlappingServer {
  private server: Server | undefined;
  constructor(readonly address: string) {}
  async start(): Promise<void> {
    const server = createHttpServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('ok\n'));
    this.server = server;
    await listen(server, rsPort, this.address);
  }
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  async toggle(): Promise<void> {
    if (this.server) await this.stop();
    else await this.start();
    counts.flaps++;
  }
}

async function main(): Promise<void> {
  await listen(hangHttp, hangHttpPort, '127.0.0.1');
  await listen(hangTcp, hangTcpPort, '127.0.0.1');
  await listen(fail, failPort, '127.0.0.1');
  const servers = rsAddresses.map((a) => new FlappingServer(a));
  for (const s of servers) await s.start();
  print({ event: 'listening' });
  // Staggered, so events keep arriving instead of in bursts. Toggles of one server never overlap (chained).
  servers.forEach((s, i) => {
    let chain = Promise.resolve();
    setTimeout(
      () => {
        setInterval(() => {
          chain = chain.then(() => s.toggle()).catch((err: unknown) => print({ event: 'error', error: `${s.address}: ${String(err)}` }));
        }, flapMs);
      },
      Math.round((flapMs / servers.length) * i),
    );
  });
  setInterval(() => print({ event: 'counts', ...counts }), 1000);
  const end = (why: string): void => {
    print({ event: 'counts', ...counts });
    print({ event: 'stopped', why });
    for (const s of held) s.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => end('SIGTERM'));
  process.on('SIGINT', () => end('SIGINT'));
  setTimeout(() => end('max lifetime'), maxSeconds * 1000).unref();
}

main().catch((err: unknown) => {
  print({ event: 'error', error: String(err) });
  process.exit(1);
});
