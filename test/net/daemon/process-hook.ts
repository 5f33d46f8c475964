// Test hook for the daemon's process shape, preloaded into `lvskeep run` with `--import` (the VRRP child gets it
// too: fork passes the parent's Node flags on). Every 20 ms each process looks for the file named by
// LVSKEEP_TEST_HOOK_FILE; a JSON order there, `{"where": "main" | "vrrp", "action": "stall" | "crash", "ms": N}`,
// is taken (the file removed) by the process it names, which then busy-waits N ms on its event loop (stall) or
// throws an uncaught error (crash). Each order is acknowledged with one JSON line on stdout:
// {"hook":"stall","where":"main","pid":...,"from":<epoch ms>,"to":<epoch ms>}. src/ is untouched.
import { readFileSync, rmSync } from 'node:fs';

const file = process.env.LVSKEEP_TEST_HOOK_FILE;
const where = process.env.LVSKEEP_VRRP_CHILD === '1' ? 'vrrp' : 'main';

interface Order {
  where: 'main' | 'vrrp';
  action: 'stall' | 'crash';
  ms?: number;
}

function take(path: string): Order | undefined {
  let order: Order;
  try {
    order = JSON.parse(readFileSync(path, 'utf8')) as Order;
  } catch {
    return undefined; // absent, or half written: look again next time
  }
  if (order.where !== where) return undefined;
  rmSync(path, { force: true });
  return order;
}

if (file) {
  const timer = setInterval(() => {
    const order = take(file);
    if (!order) return;
    const from = Date.now();
    if (order.action === 'crash') {
      process.stdout.write(`${JSON.stringify({ hook: 'crash', where, pid: process.pid, from })}\n`);
      throw new Error('test hook crash');
    }
    const end = performance.now() + Math.min(order.ms ?? 0, 10_000);
    while (performance.now() < end) {
      // Busy on purpose: a synchronous stall blocks every timer and socket callback of this event loop.
    }
    process.stdout.write(`${JSON.stringify({ hook: 'stall', where, pid: process.pid, from, to: Date.now() })}\n`);
  }, 20);
  timer.unref();
}
