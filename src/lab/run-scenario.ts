// Runs the scenario's steps in order on a built lab, printing the timeline. A step that throws is a FAIL
// naming the step; the steps after it are SKIPped, because each builds on the state the previous one left.
import { errorMessage } from '../util/errors.js';
import type { Lab } from './lab.js';
import type { Step } from './scenario.js';
import type { Timeline } from './timeline.js';

export async function runSteps(lab: Lab, steps: readonly Step[], tl: Timeline): Promise<boolean> {
  let broken = false;
  for (const [i, step] of steps.entries()) {
    if (broken) {
      tl.add('SKIP', step.id, step.title);
      continue;
    }
    tl.info(step.id, `-- ${i + 1}/${steps.length} ${step.title}`);
    try {
      await step.run({ lab, tl });
    } catch (err) {
      tl.fail(step.id, `step stopped: ${errorMessage(err).split('\n').slice(0, 6).join(' | ')}`);
      broken = true;
    }
  }
  return tl.failures().length === 0;
}
