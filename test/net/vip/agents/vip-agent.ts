// Runs inside a test namespace: applies VIP operations with one VipManager implementation and prints
// one JSON line per step ({ step, ok, vips | error, code }). Bounded by `timeoutMs` (exit 3).
import { createIproute2VipManager } from '../../../../src/vip/iproute2.js';
import { createNetlinkVipManager } from '../../../../src/vip/netlink.js';
import type { Vip, VipManager } from '../../../../src/vip/types.js';

interface Step {
  op: 'add' | 'remove' | 'list';
  vip?: Vip;
  ifname?: string;
}
interface AgentArgs {
  kind: 'netlink' | 'iproute2';
  steps: Step[];
  timeoutMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as AgentArgs;
const emit = (event: object): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};
const hardStop = setTimeout(() => {
  emit({ step: 'timeout' });
  process.exit(3);
}, args.timeoutMs);

async function main(): Promise<void> {
  const manager: VipManager = args.kind === 'netlink' ? await createNetlinkVipManager() : createIproute2VipManager();
  for (const [i, step] of args.steps.entries()) {
    try {
      if (step.op === 'list') emit({ step: i, op: step.op, ok: true, vips: await manager.list(step.ifname ?? '') });
      else if (step.vip) {
        await manager[step.op](step.vip);
        emit({ step: i, op: step.op, ok: true });
      }
    } catch (err) {
      emit({ step: i, op: step.op, ok: false, error: (err as Error).message, code: (err as { code?: unknown }).code });
    }
  }
  await manager.close();
}

main().then(
  () => clearTimeout(hardStop),
  (err: unknown) => {
    emit({ step: 'fatal', error: String(err) });
    process.exit(2);
  },
);
