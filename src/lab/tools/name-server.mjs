// Lab real server: an HTTP server that answers /healthz with "ok" (what the lab's http check expects) and
// every other path with its own name, so the client can tell which real server it reached.
// Usage: node name-server.mjs HOST PORT NAME [MAX_SECONDS]. Prints "listening HOST:PORT" once ready; ends on
// SIGTERM/SIGINT or after MAX_SECONDS (default 1800) so a server whose lab crashed cannot linger.
import { createServer } from 'node:http';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const [host, portText, name, maxText = '1800'] = process.argv.slice(2);
const port = Number(portText);
if (!host || !name || !Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: name-server.mjs HOST PORT NAME [MAX_SECONDS]\n');
  process.exit(2);
}
const server = createServer((req, res) => {
  const body = req.url === '/healthz' ? 'ok' : name;
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`${body}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`name-server ${name}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => process.stdout.write(`listening ${host}:${port}\n`));
// closeAllConnections: a stopped real server must stop answering at once, as a crashed one would.
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(() => process.exit(0), Number(maxText) * 1000).unref();
