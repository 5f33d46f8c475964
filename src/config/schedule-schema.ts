/** Cron-driven actions: digests to alert sinks, maintenance windows (drain real servers), config reloads. */
import { z } from 'zod';
import { validateDetailed } from 'node-cron';
import { duration, name, oneOf, ruleIssue, text } from './fields.js';

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const cron = text('a cron expression such as "0 8 * * 1-5"').superRefine((expr, ctx) => {
  const r = validateDetailed(expr);
  if (!r.valid) {
    const why = r.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field}: ${e.message}`)).join('; ');
    ctx.addIssue({ code: 'custom', message: `invalid cron expression (${why || 'unrecognised'})` });
  }
});

const timezone = text('an IANA time zone such as Europe/Berlin').superRefine((tz, ctx) => {
  if (!isValidTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `unknown time zone "${tz}" (use an IANA name such as UTC or Europe/Berlin)` });
});

const target = z.strictObject({ virtual_server: name(), real_server: text('a real server endpoint').optional() });

export const scheduleSchema = z
  .strictObject({
    name: name(),
    cron,
    timezone: timezone.default('UTC'),
    action: oneOf(['digest', 'maintenance', 'reload'] as const),
    sinks: z.array(name()).optional(),
    targets: z.array(target).optional(),
    duration: duration({ min: 1000, max: 7 * 86_400_000 }).optional(),
  })
  .superRefine((s, ctx) => {
    const report = (path: string[], message: string): void => ruleIssue(ctx, path, message);
    if (s.action === 'maintenance') {
      if (!s.targets || s.targets.length === 0) report([], 'a maintenance schedule needs targets');
      if (s.duration === undefined) report([], 'a maintenance schedule needs a duration');
    } else {
      if (s.targets !== undefined) report(['targets'], 'targets are only for action maintenance');
      if (s.duration !== undefined) report(['duration'], 'duration is only for action maintenance');
    }
    if (s.action !== 'digest' && s.sinks !== undefined) report(['sinks'], 'sinks are only for action digest');
  });
