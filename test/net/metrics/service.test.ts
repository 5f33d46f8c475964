import { request } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/bus.js';
import { createEvent, type LvsEvent } from '../../../src/events/types.js';
import { createLogger, silentLogger } from '../../../src/log/logger.js';
import { startMetricsService, type MetricsService } from '../../../src/metrics/service.js';
import { parseExposition, valueOf } from '../../unit/metrics/exposition.js';

const running: MetricsService[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function scrape(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

describe('startMetricsService', () => {
  it('serves events and pulled sources through one endpoint, and stops cleanly', async () => {
    const bus = new EventBus<LvsEvent>();
    const svc = await startMetricsService({
      config: { enabled: true, listen: '127.0.0.1:0' },
      bus,
      logger: silentLogger(),
      defaultMetrics: false,
      sources: {
        vrrpStatus: () => [{ name: 'VI_1', state: 'Master', effectivePriority: 120, counters: { advertsSent: 7, advertsReceived: 0, drops: {} } }],
        alerts: () => ({ stats: () => ({ slack: { delivered: 1, skipped: 0, retries: 0, droppedQueueFull: 0, droppedFailed: 0, queueDepth: 2 } }) }),
        realServers: () => [{ virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80', state: 'up', weights: { configured: 10, desired: 10, kernel: 10 } }],
      },
    });
    if (!svc?.server) throw new Error('service did not start');
    running.push(svc);
    bus.emit(createEvent({ type: 'daemon.reload_failed', source: 'SIGHUP', error: 'x' }, Date.now()));
    const r = await scrape(svc.server.url);
    expect(r.status).toBe(200);
    const f = parseExposition(r.body);
    expect(valueOf(f, 'lvskeep_config_reloads_total', { result: 'failure' })).toBe(1);
    expect(valueOf(f, 'lvskeep_vrrp_adverts_sent_total', { instance: 'VI_1' })).toBe(7);
    expect(valueOf(f, 'lvskeep_alert_queue_length', { sink: 'slack' })).toBe(2);
    expect(valueOf(f, 'lvskeep_real_server_weight', { virtual_server: 'tcp 203.0.113.1:80', real_server: '198.51.100.11:80', kind: 'kernel' })).toBe(10);

    await svc.stop();
    expect(bus.listenerCount).toBe(0);
    await expect(scrape(svc.server.url)).rejects.toThrow();
  });

  it('does nothing when disabled', async () => {
    const bus = new EventBus<LvsEvent>();
    expect(await startMetricsService({ config: { enabled: false, listen: '127.0.0.1:0' }, bus, logger: silentLogger() })).toBeUndefined();
    expect(bus.listenerCount).toBe(0);
  });

  it('keeps running without an endpoint when the port is taken, and logs the address', async () => {
    const bus = new EventBus<LvsEvent>();
    const first = await startMetricsService({ config: { enabled: true, listen: '127.0.0.1:0' }, bus, logger: silentLogger(), defaultMetrics: false });
    if (!first?.server) throw new Error('first service did not start');
    running.push(first);
    const port = first.server.address.port;
    const lines: string[] = [];
    const logger = await createLogger({ level: 'error', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    const second = await startMetricsService({ config: { enabled: true, listen: { address: '127.0.0.1', port } }, bus, logger, defaultMetrics: false });
    if (!second) throw new Error('second service missing');
    running.push(second);
    expect(second.server).toBeUndefined();
    expect(lines.join('')).toContain(`127.0.0.1:${port}: address already in use`);
    // Its metrics still follow the bus (a later restart of the endpoint would show them).
    bus.emit(createEvent({ type: 'ipvs.error', operation: 'NEW_DEST', object: 'x', error: 'EEXIST' }, Date.now()));
    expect(valueOf(parseExposition(await second.metrics.registry.metrics()), 'lvskeep_ipvs_errors_total')).toBe(1);

    await expect(
      startMetricsService({ config: { enabled: true, listen: `127.0.0.1:${port}` }, bus, logger: silentLogger(), defaultMetrics: false, failOnListenError: true }),
    ).rejects.toThrow(/EADDRINUSE/);
    expect(bus.listenerCount).toBe(2); // the failed one unsubscribed
  });
});
