// Kernel test helper: one HTTP request kept open across a director failover. Connects to HOST:PORT, sends the
// request line and then one header line every INTERVAL_MS (so the connection carries packets, which makes the
// IPVS master sync it to the backup), and finishes the request only on SIGUSR2; then prints the answer.
// Usage: node held-http-client.mjs HOST PORT [MAX_SECONDS]. Prints JSON lines:
//   {"event":"connected","local":"203.0.113.10:40000"}   {"event":"response","status":200,"body":"rs1"}
//   {"event":"error","error":"..."}
// Exits after the response, on error, or after MAX_SECONDS (default 120) so it cannot linger.
import { connect } from 'node:net';
import process from 'node:process';
import { clearInterval, setInterval, setTimeout } from 'node:timers';

const [host, portText, maxText = '120'] = process.argv.slice(2);
const port = Number(portText);
const INTERVAL_MS = 300;
if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: held-http-client.mjs HOST PORT [MAX_SECONDS]\n');
  process.exit(2);
}
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const fail = (error) => {
  print({ event: 'error', error });
  process.exit(1);
};
setTimeout(() => fail(`no response within ${maxText} s`), Number(maxText) * 1000).unref();

let received = '';
let lines = 0;
const sock = connect({ host, port }, () => {
  print({ event: 'connected', local: `${sock.localAddress}:${sock.localPort}` });
  sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n`);
});
const ticker = setInterval(() => {
  // Bounded: the server's header limits are far above this.
  if (sock.writable && lines < 400) sock.write(`X-Held-${++lines}: y\r\n`);
}, INTERVAL_MS);
sock.setEncoding('utf8');
sock.on('data', (chunk) => {
  if (received.length < 8192) received += chunk;
});
sock.on('end', () => {
  clearInterval(ticker);
  const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(received);
  if (!m) fail(`unreadable response: ${JSON.stringify(received.slice(0, 200))}`);
  const chunked = /^transfer-encoding:\s*chunked/im.test(m[2]);
  const body = chunked ? dechunk(m[3]) : m[3];
  if (body === undefined) fail(`unreadable chunked body: ${JSON.stringify(m[3].slice(0, 200))}`);
  print({ event: 'response', status: Number(m[1]), body: body.trim() });
  process.exit(0);
});
sock.on('error', (err) => fail(err.message));
/** HTTP/1.1 chunked body -> text; undefined when malformed. Bounded by the input's length. */
function dechunk(text) {
  let out = '';
  let rest = text;
  while (rest.length > 0) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return undefined;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!Number.isInteger(size) || size < 0) return undefined;
    if (size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return undefined;
}

process.on('SIGUSR2', () => {
  clearInterval(ticker);
  sock.write('\r\n');
});
