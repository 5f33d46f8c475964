import { describe, expect, it } from 'vitest';
import { sinkSettingsFromConfig } from '../../../src/alerts/from-config.js';
import { createSink } from '../../../src/alerts/sinks/index.js';
import { alertSinkSchema } from '../../../src/config/alerts-schema.js';
import { scheduleSchema } from '../../../src/config/schedule-schema.js';
import { scheduleSpecFromConfig } from '../../../src/schedules/from-config.js';
import { validateSchedules } from '../../../src/schedules/scheduler.js';

describe('config adapters', () => {
  it('maps a validated sink config (snake_case, ms durations) onto SinkSettings', () => {
    const c = alertSinkSchema.parse({
      name: 'pd', type: 'pagerduty', routing_key: '${PD_KEY}', url: 'http://127.0.0.1:8080/v2/enqueue',
      events: ['rs.*', 'quorum.lost'], min_severity: 'warning', timeout: '3s', queue_size: 50, retries: 2,
      group_window: '0s', dedup_window: '1m', repeat: '30m',
    });
    const s = sinkSettingsFromConfig(c);
    expect(s).toEqual({
      name: 'pd', type: 'pagerduty', routingKey: '${PD_KEY}', url: 'http://127.0.0.1:8080/v2/enqueue',
      events: ['rs.*', 'quorum.lost'], minSeverity: 'warning', timeoutMs: 3000, queueSize: 50, retries: 2,
      groupWindowMs: 0, dedupWindowMs: 60_000, repeatMs: 1_800_000,
    });
    expect(createSink(s, { host: 'lb1', now: Date.now, env: { PD_KEY: 'k' } }).describe()).toBe('pagerduty http://127.0.0.1:8080/…');
  });

  it('fills defaults: no repeat means no reminders', () => {
    const s = sinkSettingsFromConfig(alertSinkSchema.parse({ name: 'n', type: 'script', command: ['/usr/local/bin/notify'] }));
    expect(s).toMatchObject({ command: ['/usr/local/bin/notify'], repeatMs: 0, events: ['*'] });
    expect(s.timeoutMs).toBeGreaterThan(0);
  });

  it('maps schedules, including whole-virtual-server maintenance targets', () => {
    const c = scheduleSchema.parse({
      name: 'patch', cron: '0 2 * * 2', timezone: 'Europe/Berlin', action: 'maintenance',
      targets: [{ virtual_server: 'web', real_server: '198.51.100.11:80' }, { virtual_server: 'dns' }], duration: '1h',
    });
    const spec = scheduleSpecFromConfig(c);
    expect(spec).toEqual({
      name: 'patch', cron: '0 2 * * 2', timezone: 'Europe/Berlin', action: 'maintenance',
      targets: [{ virtualServer: 'web', realServer: '198.51.100.11:80' }, { virtualServer: 'dns' }], durationMs: 3_600_000,
    });
    expect(validateSchedules([spec])).toEqual([]);
  });
});
