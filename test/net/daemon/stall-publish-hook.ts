// For alerts-vs-vrrp.test.ts: preloaded into `lvskeep run` with `--import`, it makes every
// AlertDispatcher.publish() busy-wait synchronously for the number of milliseconds written in the file named by
// LVSKEEP_TEST_PUBLISH_STALL_FILE, once that file exists: a sink's work done inline on the main event loop, the
// defect that used to delay adverts and must not any more (VRRP has its own process), injected without touching
// src/. The test arms it only after the daemon is master, so start-up is unaffected. The ESM module instance is the daemon's own (same file URL).
import { existsSync, readFileSync } from 'node:fs';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';

const stallFile = process.env.LVSKEEP_TEST_PUBLISH_STALL_FILE;

function stallMs(): number {
  if (!stallFile || !existsSync(stallFile)) return 0;
  const ms = Number(readFileSync(stallFile, 'utf8').trim());
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 5_000) : 0;
}

if (stallFile) {
  const original = AlertDispatcher.prototype.publish;
  AlertDispatcher.prototype.publish = function stalledPublish(this: AlertDispatcher, ...args: Parameters<AlertDispatcher['publish']>): void {
    const end = performance.now() + stallMs();
    while (performance.now() < end) {
      // Busy on purpose: a synchronous stall is what blocks VRRP's timers.
    }
    original.apply(this, args);
  };
  process.stderr.write(`stall-publish-hook: armed by ${stallFile}\n`);
}
