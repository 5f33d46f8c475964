import cron from 'node-cron';

/** The part of a cron library the scheduler uses; unit tests substitute a driver they fire by hand. */
export interface CronJob {
  stop(): void;
  nextRun(): Date | null;
}

export interface CronDriver {
  /** Problems with the expression, empty when valid. */
  validate(expression: string): string[];
  start(name: string, expression: string, timezone: string | undefined, onTick: () => void): CronJob;
}

export const nodeCronDriver: CronDriver = {
  validate(expression) {
    const fields = expression.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) return [`expected 5 or 6 fields, got ${fields}`];
    const v = cron.validateDetailed(expression);
    return v.valid ? [] : v.errors.map((e) => `${e.field}: ${e.message}`);
  },
  start(name, expression, timezone, onTick) {
    const task = cron.createTask(expression, () => onTick(), {
      name,
      ...(timezone ? { timezone } : {}),
      // Our callback only starts the action and returns; overlap is handled by the scheduler itself.
      noOverlap: false,
      // node-cron skips ticks missed while the process was stalled rather than firing them late, which is what
      // we want; its own console warning about that is noise next to our logs.
      suppressMissedWarning: true,
      // Schedules are no reason to keep a stopping daemon alive.
      unref: true,
    });
    void task.start();
    return {
      stop: () => void task.destroy(),
      nextRun: () => task.getNextRun(),
    };
  },
};
