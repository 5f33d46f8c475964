// Runs inside a test namespace: announces VIPs once (first burst only) with the native or arping
// sender and prints {"event":"done","sent":N,"failed":M}. Bounded by `timeoutMs` (exit 3).
import { arpingAnnouncementSender, nativeAnnouncementSender, scheduleAnnouncements, type AnnounceTiming } from '../../../../src/vip/announce.js';
import type { Vip } from '../../../../src/vip/types.js';
import { loadNativeAddon } from '../../../../src/vrrp/transport/native.js';

interface AgentArgs {
  sender: 'native' | 'arping';
  vips: Vip[];
  timing: AnnounceTiming;
  timeoutMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as AgentArgs;
const hardStop = setTimeout(() => {
  process.stdout.write('{"event":"timeout"}\n');
  process.exit(3);
}, args.timeoutMs);

const sender = args.sender === 'native' ? nativeAnnouncementSender(loadNativeAddon()) : arpingAnnouncementSender();
const run = scheduleAnnouncements(args.vips, sender, { ...args.timing, refreshMs: 0 });
void run.firstBurst.then(() => {
  clearTimeout(hardStop);
  process.stdout.write(`${JSON.stringify({ event: 'done', ...run.counts() })}\n`);
});
