// Kernel test helper: the reset guard's tc filters for one VIP, as the VRRP manager sets them
// (src/vrrp/runtime/reset-guard-tc.ts). Usage: tsx reset-guard.ts on|off DEV ADDRESS. Prints what is guarded;
// a failed tc run is logged (JSON on stderr) as the daemon would.
import { pino } from 'pino';
import { ResetGuardController, tcBatchRunner } from '../../../src/vrrp/runtime/reset-guard-tc.js';

const [what, dev, address] = process.argv.slice(2);
if ((what !== 'on' && what !== 'off') || !dev || !address) {
  process.stderr.write('usage: reset-guard.ts on|off DEV ADDRESS\n');
  process.exit(2);
}
const guard = new ResetGuardController(tcBatchRunner(), pino({ level: 'debug' }, process.stderr));
if (what === 'on') guard.update('test', [{ address, dev }]);
else await guard.cleanup([dev]);
await guard.idle();
process.stdout.write(`${JSON.stringify({ guarded: guard.guarded() })}\n`);
