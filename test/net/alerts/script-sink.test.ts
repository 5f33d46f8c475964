import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import { createSink } from '../../../src/alerts/sinks/index.js';
import { SINK_DEFAULTS, type SinkSettings } from '../../../src/alerts/types.js';
import { createEvent } from '../../../src/events/types.js';
import { waitFor } from './receiver.js';

let dir: string;
let dispatcher: AlertDispatcher | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvskeep-notify-'));
});

afterEach(async () => {
  await dispatcher?.close(2_000);
  dispatcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A notify script that logs start, its argv and end, with a pause in between to expose overlapping runs. */
function writeScript(body: string): string {
  const path = join(dir, 'notify.sh');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function start(command: string[], over: Partial<SinkSettings> = {}): AlertDispatcher {
  const settings: SinkSettings = { ...SINK_DEFAULTS, name: 'notify', type: 'script', command, retries: 0, ...over };
  dispatcher = new AlertDispatcher({ sinks: [{ settings, sink: createSink(settings, { host: 'lb1', now: Date.now }) }] });
  return dispatcher;
}

const lines = (f: string): string[] => {
  try {
    return readFileSync(f, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('script sink with a real script', () => {
  it('appends keepalived-style arguments and runs one at a time, in order', async () => {
    const out = join(dir, 'argv.log');
    const script = writeScript(`echo "start $*" >> '${out}'\nsleep 0.1\necho "end" >> '${out}'`);
    const d = start([script, 'fixed-arg']);
    d.publish(createEvent({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'higher priority gone', priority: 150 }, Date.now()));
    d.publish(createEvent({ type: 'rs.down', virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80', reason: 'HTTP 503' }, Date.now()));
    d.publish(createEvent({ type: 'rs.up', virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80', reason: 'HTTP 200' }, Date.now()));
    await waitFor(() => (d.stats().notify?.delivered ?? 0) === 3, 10_000, 'three script runs');
    expect(lines(out)).toEqual([
      'start fixed-arg INSTANCE VI_1 MASTER 150',
      'end',
      'start fixed-arg RS 198.51.100.11:80 VS 203.0.113.1:80 DOWN',
      'end',
      'start fixed-arg RS 198.51.100.11:80 VS 203.0.113.1:80 UP',
      'end',
    ]);
    expect(d.stats().notify).toMatchObject({ delivered: 3, droppedFailed: 0 });
  });

  it('passes the event as JSON in the environment', async () => {
    const out = join(dir, 'env.json');
    const script = writeScript(`printf '%s' "$LVSKEEP_EVENT" > '${out}'`);
    const d = start([script]);
    d.publish(createEvent({ type: 'quorum.lost', virtualServer: 'tcp 203.0.113.1:80', reason: 'healthy weight 0, quorum 2', up: 0, quorum: 2 }, Date.now()));
    await waitFor(() => (d.stats().notify?.delivered ?? 0) === 1, 10_000, 'script run');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ type: 'quorum.lost', severity: 'critical', dedupKey: 'quorum:tcp 203.0.113.1:80' });
  });

  it('kills a script that overruns its timeout, counts the failure, and goes on with the next', async () => {
    const out = join(dir, 'runs.log');
    const script = writeScript(`echo "$1" >> '${out}'\nif [ "$1" = EVENT ] && [ "$2" = ipvs.error ]; then sleep 31.4159; echo leaked >> '${out}'; fi`);
    const d = start([script], { timeoutMs: 300 });
    const t0 = Date.now();
    d.publish(createEvent({ type: 'ipvs.error', operation: 'NEW_DEST', object: '198.51.100.11:80', error: 'EEXIST' }, Date.now()));
    d.publish(createEvent({ type: 'daemon.started', version: '0.1.0' }, Date.now()));
    await waitFor(() => (d.stats().notify?.delivered ?? 0) === 1, 10_000, 'second script run');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(d.stats().notify).toMatchObject({ droppedFailed: 1, delivered: 1 });
    expect(lines(out)).toEqual(['EVENT', 'EVENT']);
    // the shell's child `sleep` died with it: nothing of the killed run is left to write later
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain('sleep 31.4159');
  });

  it('a failing script is retried, then reported', async () => {
    const out = join(dir, 'tries.log');
    const script = writeScript(`echo try >> '${out}'\necho "cannot reach pager" >&2\nexit 3`);
    const d = start([script], { retries: 1 });
    const [res] = await d.sendTest('notify');
    expect(res?.outcome).toMatchObject({ ok: false, retryable: true });
    expect(res?.outcome.ok === false && res.outcome.error).toMatch(/exit status 3: cannot reach pager/);
    expect(lines(out)).toEqual(['try', 'try']);
  });

  it('a missing program is a final error naming it', async () => {
    const d = start([join(dir, 'does-not-exist')], { retries: 3 });
    const [res] = await d.sendTest('notify');
    expect(res?.outcome).toMatchObject({ ok: false, retryable: false });
    expect(res?.outcome.ok === false && res.outcome.error).toContain('does-not-exist');
  });
});
