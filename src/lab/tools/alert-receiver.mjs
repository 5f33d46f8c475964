// Lab alert receiver: accepts lvskeep's webhook POSTs and prints each one as a single line
// `ALERT <json body>` on stdout, answering 204. Usage: node alert-receiver.mjs HOST PORT [MAX_SECONDS].
// Bodies are capped at 256 KiB; anything else gets 405/413. Ends on SIGTERM or after MAX_SECONDS (default 1800).
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const LIMIT = 256 * 1024;
const [host, portText, maxText = '1800'] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: alert-receiver.mjs HOST PORT [MAX_SECONDS]\n');
  process.exit(2);
}
const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > LIMIT) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size > LIMIT) return;
    const text = Buffer.concat(chunks).toString('utf8');
    let line;
    try {
      line = JSON.stringify(JSON.parse(text));
    } catch {
      line = JSON.stringify({ unparsable: text.slice(0, 2000) });
    }
    process.stdout.write(`ALERT ${line}\n`);
    res.writeHead(204).end();
  });
  req.on('error', () => undefined);
});
server.requestTimeout = 10_000;
server.on('error', (err) => {
  process.stderr.write(`alert-receiver: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => process.stdout.write(`listening ${host}:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
setTimeout(() => process.exit(0), Number(maxText) * 1000).unref();
