// End to end: the whole `lvskeep lab` scenario (src/lab/scenario.ts) inside the kernel suite's UML guest, once
// in NAT mode and once in DR mode, one `it` per step. Each step checks real state itself (ipvsadm -Ln on the
// directors, `ip addr` for the VIPs, answers the client gets, alerts the webhook receiver got) and records
// PASS/FAIL lines; a step passes only when it recorded no FAIL. Steps build on each other, so after a failed
// step the rest of that mode's steps are skipped rather than failing for the same reason. The two labs share
// the suite's one guest boot and run one after the other (same namespace names; the first is torn down first).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requireKernelIpvs } from '../harness/privileges.js';
import { Lab } from '../../src/lab/lab.js';
import type { LabMode } from '../../src/lab/plan.js';
import { scenario } from '../../src/lab/scenario.js';
import { formatEntry, Timeline } from '../../src/lab/timeline.js';

const TITLES: Record<LabMode, string> = {
  nat: 'lvskeep lab, NAT: two directors, three real servers, failover and operations',
  dr: 'lvskeep lab, DR: two directors, three real servers behind a router, failover and operations',
};

function labSuite(mode: LabMode): void {
  requireKernelIpvs(`kernel/e2e-lab-${mode}`)(TITLES[mode], () => {
    const tl = new Timeline(Date.now, (line) => process.stdout.write(`e2e-lab-${mode} ${line}\n`));
    const lab = new Lab({ mode, workDir: `/tmp/lvskeep-e2e-lab-${mode}`, say: (line) => tl.info('setup', line) });
    let broken = false;

    beforeAll(async () => {
      await lab.build();
    }, 180_000);

    afterAll(async () => {
      await lab.destroy();
    }, 60_000);

    for (const step of scenario()) {
      it(`${step.id}: ${step.title}`, async (ctx) => {
        if (broken) ctx.skip();
        const before = tl.entries.length;
        try {
          await step.run({ lab, tl });
        } catch (err) {
          broken = true;
          throw err;
        }
        const failed = tl.entries.slice(before).filter((e) => e.mark === 'FAIL');
        if (failed.length > 0) broken = true;
        expect(failed.map(formatEntry), `${mode} ${step.id} failed; daemon logs:\n${lab.daemonTails()}`).toEqual([]);
      }, 240_000);
    }
  });
}

labSuite('nat');
labSuite('dr');
