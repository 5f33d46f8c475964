// Lab client prober: starts one HTTP GET to URL every INTERVAL_MS (default 10) and appends one line per
// finished request to OUT_FILE: `<sent ms since start> <duration ms> <ok 1|0> <body or error code>`.
// At most 200 requests are in flight (a dead VIP must not pile up sockets); each has TIMEOUT_MS (default 1000).
// Usage: node prober.mjs URL OUT_FILE [INTERVAL_MS] [TIMEOUT_MS] [MAX_SECONDS]. Prints "probing since <epoch ms>"
// when it starts (times in the file count from there); ends on SIGTERM (flushing) or after MAX_SECONDS (default 1800).
import { appendFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import process from 'node:process';
import { clearInterval, setInterval, setTimeout } from 'node:timers';

const [url, out, intervalText = '10', timeoutText = '1000', maxText = '1800'] = process.argv.slice(2);
const intervalMs = Number(intervalText);
const timeoutMs = Number(timeoutText);
if (!url || !out || !(intervalMs > 0) || !(timeoutMs > 0)) {
  process.stderr.write('usage: prober.mjs URL OUT_FILE [INTERVAL_MS] [TIMEOUT_MS] [MAX_SECONDS]\n');
  process.exit(2);
}
const MAX_IN_FLIGHT = 200;
const start = Date.now();
let inFlight = 0;
let pending = [];
writeFileSync(out, '');
process.stdout.write(`probing since ${start}\n`);

function record(sent, ok, what) {
  pending.push(`${sent} ${Date.now() - start - sent} ${ok ? 1 : 0} ${what}`);
}

function flush() {
  if (pending.length === 0) return;
  appendFileSync(out, `${pending.join('\n')}\n`);
  pending = [];
}

function probe() {
  const sent = Date.now() - start;
  if (inFlight >= MAX_IN_FLIGHT) {
    record(sent, false, 'EBUSY');
    return;
  }
  inFlight += 1;
  let done = false;
  const finish = (ok, what) => {
    if (done) return;
    done = true;
    inFlight -= 1;
    record(sent, ok, what);
  };
  const req = request(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => {
      if (body.length < 200) body += c;
    });
    res.on('end', () => finish(res.statusCode === 200, res.statusCode === 200 ? body.trim().split(/\s+/)[0] || '-' : `HTTP${res.statusCode}`));
    res.on('error', (e) => finish(false, e.code ?? 'ERR'));
  });
  req.on('timeout', () => {
    req.destroy();
    finish(false, 'ETIMEDOUT');
  });
  req.on('error', (e) => finish(false, e.code ?? 'ERR'));
  req.end();
}

const ticker = setInterval(probe, intervalMs);
const flusher = setInterval(flush, 100);
const stop = () => {
  clearInterval(ticker);
  // Let requests in flight finish (bounded by their timeout), then write everything.
  setTimeout(() => {
    clearInterval(flusher);
    flush();
    process.exit(0);
  }, Math.min(timeoutMs + 100, 2000));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(maxText) * 1000).unref();
