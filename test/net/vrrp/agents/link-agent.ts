// Runs inside a test namespace: watches interfaces the way the VRRP manager does (rtnetlink link notifications,
// /sys only as a safety poll every `safetyPollMs`) and prints one JSON line per change with the wall clock time.
// Exits by itself after `timeoutMs`.
import { openLinkEvents } from '../../../../src/vrrp/runtime/link-events.js';
import { watchInterfaces } from '../../../../src/vrrp/runtime/link-watch.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { interfaces: string[]; safetyPollMs: number; timeoutMs: number };
const emit = (event: object): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};
const events = await openLinkEvents();
const w = watchInterfaces(args.interfaces, (name, up, detail) => emit({ event: 'change', name, up, detail, at: Date.now() }), { events, safetyPollMs: args.safetyPollMs });
emit({ event: 'ready' });
setTimeout(() => {
  w.stop();
  events.close();
  emit({ event: 'done' });
}, args.timeoutMs);
