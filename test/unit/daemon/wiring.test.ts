// The daemon's wiring end to end with a fake clock, fake probers and the in-memory IPVS table: health results
// -> pool policy -> desired weights -> reconciler -> table, restarts that do not flap, and reloads as diffs.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { buildDaemon, type Daemon } from '../../../src/daemon/build.js';
import type { LvsEvent } from '../../../src/events/types.js';
import type { CheckTarget, Prober } from '../../../src/health/types.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { formatState } from '../../../src/ipvs/save-format.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeTimers } from '../health/fake-timers.js';

function config(yaml: string): LvskeepConfig {
  const r = parseConfigText(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

const BASE = `
virtual_servers:
  - name: web
    address: 203.0.113.1:80
    scheduler: wlc
    check: { type: tcp, interval: 1s, timeout: 200ms, rise: 2, fall: 3, jitter: 0, assume: ASSUME }
    real_servers:
      - address: 198.51.100.11:80
        weight: 2
      - address: 198.51.100.12:80
        weight: 3
  - name: dns
    address: 203.0.113.1:53
    protocol: udp
    real_servers:
      - address: 198.51.100.21:53
`;

/** Fake real servers: each answers according to `healthy`; every probe is counted. */
class FakeFarm {
  healthy = new Map<string, boolean>();
  probes = new Map<string, number>();
  factory = (_spec: unknown, target: CheckTarget): Prober => {
    const key = `${target.address}:${target.port}`;
    return {
      probe: () => {
        this.probes.set(key, (this.probes.get(key) ?? 0) + 1);
        const ok = this.healthy.get(key) ?? true;
        return Promise.resolve({ ok, latencyMs: 1, reason: ok ? 'connected' : 'connection refused' });
      },
      close: () => Promise.resolve(),
    };
  };
}

interface Rig {
  daemon: Daemon;
  backend: MemoryBackend;
  timers: FakeTimers;
  farm: FakeFarm;
  events: LvsEvent[];
}

function rig(cfg: LvskeepConfig, backend = new MemoryBackend()): Rig {
  const timers = new FakeTimers();
  const farm = new FakeFarm();
  const daemon = buildDaemon(cfg, {
    logger: silentLogger(),
    backend,
    timers,
    proberFactory: farm.factory,
    random: () => 0,
    vrrpFactory: () => undefined,
    alertGraceMs: 0,
  });
  const events: LvsEvent[] = [];
  daemon.bus.on((e) => void events.push(e));
  return { daemon, backend, timers, farm, events };
}

async function table(backend: MemoryBackend): Promise<string[]> {
  return formatState(await backend.dump()).split('\n').filter(Boolean);
}

/** Weight of one real server in the memory table, undefined when absent. */
async function weight(backend: MemoryBackend, rs: string): Promise<number | undefined> {
  for (const s of await backend.dump()) for (const d of s.dests) if (`${d.address}:${d.port}` === rs) return d.weight;
  return undefined;
}

describe('daemon wiring (memory backend, fake clock)', () => {
  it('programs configured weights at start, takes a failed server to 0 after fall checks and restores it after rise', async () => {
    const { daemon, backend, timers, farm, events } = rig(config(BASE.replace('ASSUME', 'up')));
    await daemon.start();
    await daemon.settle();
    expect(await table(backend)).toEqual([
      '-A -t 203.0.113.1:80 -s wlc',
      '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 2',
      '-a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 3',
      '-A -u 203.0.113.1:53 -s wlc',
      '-a -u 203.0.113.1:53 -r 198.51.100.21:53 -m -w 1',
    ]);

    farm.healthy.set('198.51.100.12:80', false);
    await timers.advance(2_100); // checks at 0, 1000, 2000: three failures
    expect(await weight(backend, '198.51.100.12:80')).toBe(0);
    expect(await weight(backend, '198.51.100.11:80')).toBe(2);
    expect(events.filter((e) => e.type === 'rs.down')).toMatchObject([{ virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.12:80', reason: 'connection refused' }]);

    farm.healthy.set('198.51.100.12:80', true);
    await timers.advance(1_000);
    expect(await weight(backend, '198.51.100.12:80')).toBe(0); // one success of rise 2
    await timers.advance(1_000);
    expect(await weight(backend, '198.51.100.12:80')).toBe(3);
    expect(events.map((e) => e.type)).toContain('rs.up');
    await daemon.stop('test');
    expect(events.at(-1)?.type).toBe('daemon.stopped');
  });

  it('keeps what the kernel has at a restart until the first check result (no flap on assume: down)', async () => {
    const backend = new MemoryBackend();
    // What a previous lvskeep left: .11 serving at a ramped weight 5, .12 inhibited.
    await backend.apply([
      { op: 'add-service', service: { key: { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 }, scheduler: 'wlc', schedulerFlags: [], onePacket: false } },
      ...[['198.51.100.11', 5], ['198.51.100.12', 0]].map(([address, w]) => ({
        op: 'add-dest' as const,
        service: { kind: 'addr' as const, family: 4 as const, protocol: 'tcp' as const, address: '203.0.113.1', port: 80 },
        dest: { family: 4 as const, address: String(address), port: 80, forwarding: 'masq' as const, weight: Number(w), upperThreshold: 0, lowerThreshold: 0 },
      })),
    ]);
    const { daemon, timers, farm } = rig(config(BASE.replace('ASSUME', 'down')), backend);
    farm.healthy.set('198.51.100.12:80', true);
    await daemon.start();
    await daemon.settle();
    expect(await weight(backend, '198.51.100.11:80')).toBe(5); // not 0 (assume down), not 2 (configured) yet
    expect(await weight(backend, '198.51.100.12:80')).toBe(0);
    await timers.advance(10); // first check results (first runs are at 0)
    expect(await weight(backend, '198.51.100.11:80')).toBe(2); // the kernel said up, the check agrees: configured weight
    expect(await weight(backend, '198.51.100.12:80')).toBe(0); // one success, rise is 2
    await timers.advance(1_000);
    expect(await weight(backend, '198.51.100.12:80')).toBe(3);
    await daemon.stop('test');
  });

  it('below panic_threshold the failed servers keep their weights', async () => {
    const yaml = BASE.replace('ASSUME', 'up').replace('scheduler: wlc', 'scheduler: wlc\n    panic_threshold: 60');
    const { daemon, backend, timers, farm, events } = rig(config(yaml));
    await daemon.start();
    farm.healthy.set('198.51.100.11:80', false);
    await timers.advance(2_100);
    expect(events.map((e) => e.type)).toContain('panic.entered');
    expect(await weight(backend, '198.51.100.11:80')).toBe(2);
    await daemon.stop('test');
  });

  it('a reload keeps health state of unchanged servers, edits weights in place, adds new and removes dropped objects', async () => {
    const first = config(BASE.replace('ASSUME', 'up'));
    const { daemon, backend, timers, farm } = rig(first);
    await daemon.start();
    farm.healthy.set('198.51.100.12:80', false);
    await timers.advance(2_100);
    expect(await weight(backend, '198.51.100.12:80')).toBe(0);
    const probesBefore = farm.probes.get('198.51.100.12:80') ?? 0;

    const next = config(
      BASE.replace('ASSUME', 'up')
        .replace('weight: 2', 'weight: 4')
        .replace('      - address: 198.51.100.12:80', '      - address: 198.51.100.13:80\n        weight: 6\n      - address: 198.51.100.12:80')
        .replace(/ {2}- name: dns[\s\S]*$/, ''),
    );
    // Live connections on .11 must survive its weight change: edited in place, never deleted and re-added.
    backend.setCounters({ kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 }, { family: 4, address: '198.51.100.11', port: 80 }, { activeConns: 7 });
    const editsBefore = backend.applyCalls;
    await daemon.reload(next, 'test');
    await daemon.settle();
    expect(backend.applyCalls).toBeGreaterThan(editsBefore);
    expect(await table(backend)).toEqual([
      '-A -t 203.0.113.1:80 -s wlc',
      '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 4',
      '-a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 0', // still down: no re-check from scratch
      '-a -t 203.0.113.1:80 -r 198.51.100.13:80 -m -w 6', // new, assume: up
    ]);
    expect((await backend.dump())[0]?.dests.find((d) => d.address === '198.51.100.11')?.activeConns).toBe(7);
    // The failed server's check kept its state: one more probe is not enough to bring it back (rise 2)...
    farm.healthy.set('198.51.100.12:80', true);
    await timers.advance(1_000);
    expect(farm.probes.get('198.51.100.12:80')).toBeGreaterThan(probesBefore);
    expect(await weight(backend, '198.51.100.12:80')).toBe(0);
    // ...and it never ran a second scheduler entry (one probe per interval, not two).
    await timers.advance(1_000);
    expect(await weight(backend, '198.51.100.12:80')).toBe(3);
    expect(daemon.health.stats().checks).toBe(3);
    await daemon.stop('test');
  });

  it('a reload whose checks cannot be built changes nothing and throws naming the real server', async () => {
    const { daemon, backend, timers } = rig(config(BASE.replace('ASSUME', 'up')));
    await daemon.start();
    await daemon.settle();
    const before = await table(backend);
    const bad = config(BASE.replace('ASSUME', 'up').replace('weight: 2', 'weight: 9').replace('type: tcp,', 'type: https, tls: { ca_file: /nonexistent/ca.pem },'));
    await expect(daemon.reload(bad, 'test')).rejects.toThrow(/198\.51\.100\.11:80.*ca_file/);
    await timers.advance(1_000);
    expect(await table(backend)).toEqual(before);
    expect(daemon.config().virtual_servers[0]?.real_servers[0]?.weight).toBe(2);
    await daemon.stop('test');
  });

  it('reports operations the kernel refused as ipvs.error events naming the object', async () => {
    const backend = new MemoryBackend({ fault: (op) => (op.op === 'add-dest' && op.dest.address === '198.51.100.21' ? 'EPERM' : undefined) });
    const { daemon, events } = rig(config(BASE.replace('ASSUME', 'up')), backend);
    await daemon.start();
    await daemon.settle();
    const errors = events.filter((e) => e.type === 'ipvs.error');
    expect(errors.length).toBeGreaterThan(0); // every pass that retries the refused op reports it (alerts dedup them)
    for (const e of errors) expect(e).toMatchObject({ operation: 'NEW_DEST', object: '198.51.100.21:53 on udp 203.0.113.1:53', error: expect.stringContaining('EPERM') as unknown });
    expect(await weight(backend, '198.51.100.11:80')).toBe(2); // the rest of the table is unaffected
    await daemon.stop('test');
  });

  it('flush_on_stop removes the configured services at stop; without it the table is left as it is', async () => {
    for (const flush of [true, false]) {
      const yaml = BASE.replace('ASSUME', 'up') + `ipvs:\n  flush_on_stop: ${flush}\n`;
      const backend = new MemoryBackend();
      const other = { kind: 'addr' as const, family: 4 as const, protocol: 'tcp' as const, address: '203.0.113.9', port: 443 };
      await backend.apply([{ op: 'add-service', service: { key: other, scheduler: 'rr', schedulerFlags: [], onePacket: false } }]);
      const { daemon } = rig(config(yaml), backend);
      await daemon.start();
      await daemon.settle();
      // stop() closes the backend it was given; keep it readable to look at what was left.
      let closed = false;
      backend.close = () => {
        closed = true;
        return Promise.resolve();
      };
      await daemon.stop('test');
      expect(closed).toBe(true);
      const left = (await backend.dump()).map((s) => (s.key.kind === 'addr' ? `${s.key.protocol} ${s.key.address}:${s.key.port}` : ''));
      expect(left).toEqual(flush ? ['tcp 203.0.113.9:443'] : ['tcp 203.0.113.9:443', 'tcp 203.0.113.1:80', 'udp 203.0.113.1:53']);
    }
  });

  it('a drain ends when the kernel reports no active connections left', async () => {
    const { daemon, backend, timers, events } = rig(config(BASE.replace('ASSUME', 'up')));
    await daemon.start();
    await daemon.settle();
    const web = { kind: 'addr' as const, family: 4 as const, protocol: 'tcp' as const, address: '203.0.113.1', port: 80 };
    const rs = { family: 4 as const, address: '198.51.100.11', port: 80 };
    backend.setCounters(web, rs, { activeConns: 3 });
    expect(daemon.pools.manual('web', '198.51.100.11', 'drain', 'test drain')).toEqual({ virtualServer: 'web', id: 'tcp 203.0.113.1:80', realServers: ['198.51.100.11:80'] });
    await timers.advance(2_500);
    expect(await weight(backend, '198.51.100.11:80')).toBe(0); // no new connections while draining
    expect(events.map((e) => e.type)).not.toContain('rs.drained');
    backend.setCounters(web, rs, { activeConns: 0 });
    await timers.advance(2_500);
    expect(events.filter((e) => e.type === 'rs.drained')).toMatchObject([{ realServer: '198.51.100.11:80', reason: 'drain finished: no active connections left' }]);
    await daemon.stop('test');
  });
});
