// Lab client: N sequential HTTP GETs to URL (new connection each), then prints a JSON array of the bodies'
// first words (or "ERR:<code>" for a failed request). Usage: node get.mjs URL N [TIMEOUT_MS].
import { request } from 'node:http';
import process from 'node:process';

const [url, countText, timeoutText = '2000'] = process.argv.slice(2);
const count = Number(countText);
const timeoutMs = Number(timeoutText);
if (!url || !Number.isInteger(count) || count < 1 || count > 10_000 || !(timeoutMs > 0)) {
  process.stderr.write('usage: get.mjs URL N [TIMEOUT_MS]\n');
  process.exit(2);
}

function get() {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        if (body.length < 200) body += c;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim().split(/\s+/)[0] || '-' : `ERR:HTTP${res.statusCode}`));
      res.on('error', (e) => resolve(`ERR:${e.code ?? 'ERR'}`));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('ERR:ETIMEDOUT');
    });
    req.on('error', (e) => resolve(`ERR:${e.code ?? 'ERR'}`));
    req.end();
  });
}

const bodies = [];
for (let i = 0; i < count; i++) bodies.push(await get());
process.stdout.write(`${JSON.stringify(bodies)}\n`);
