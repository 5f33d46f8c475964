// Kernel test helper: one connection hand-over push from this namespace's IPVS table, as a director leaving
// master sends it (src/ipvs/conn-sync/pusher.ts). Usage: tsx push-conns.ts INTERFACE SYNC_ID. Prints the report.
import { createProcConnPusher } from '../../../src/ipvs/conn-sync/pusher.js';

const [ifname, syncIdText] = process.argv.slice(2);
if (!ifname || !syncIdText) {
  process.stderr.write('usage: push-conns.ts INTERFACE SYNC_ID\n');
  process.exit(2);
}
const pusher = createProcConnPusher();
try {
  const report = await pusher.push({ interface: ifname, syncId: Number(syncIdText) });
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await pusher.close();
}
