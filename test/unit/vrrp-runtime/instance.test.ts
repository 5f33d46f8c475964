import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { decodeAdvert } from '../../../src/vrrp/codec.js';
import { VrrpInstance } from '../../../src/vrrp/runtime/instance.js';
import { buildInstanceSpec } from '../../../src/vrrp/runtime/spec.js';
import { FakeAnnouncer, FakeTransport, FakeVips, ManualTimers, flush, logger, recordingBus } from './fakes.js';

function instanceConfig(extra = ''): Parameters<typeof buildInstanceSpec>[0] {
  const text = [
    'vrrp:',
    '  instances:',
    '    - name: vi1',
    '      interface: eth0',
    '      virtual_router_id: 51',
    '      priority: 150',
    '      advert_interval: 1s',
    '      virtual_ips: [192.0.2.50/24]',
    '      garp: { repeat: 2, interval: 100ms }',
    ...extra.split('\n').filter(Boolean).map((l) => `      ${l}`),
  ].join('\n');
  const r = parseConfigText(text, 'test.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const c = r.config.vrrp.instances[0];
  if (!c) throw new Error('no instance');
  return c;
}

function setup(extra = '', tracked: ConstructorParameters<typeof VrrpInstance>[1]['tracked'] = []) {
  const timers = new ManualTimers();
  const transport = new FakeTransport();
  const vips = new FakeVips();
  const announcer = new FakeAnnouncer();
  const { bus, events } = recordingBus();
  const spec = buildInstanceSpec(instanceConfig(extra), '192.0.2.1');
  const inst = new VrrpInstance(spec, { transport, vips, announcer, logger, bus, timers, wallClock: () => 1_000_000, tracked });
  const adverts = () =>
    transport.sent.map((s) => {
      const d = decodeAdvert(s.bytes, { family: 4, src: '192.0.2.1', dst: s.dest ?? '' });
      if (!d.ok) throw new Error(`our advert does not decode: ${d.detail}`);
      return { priority: d.value.priority, dest: s.dest };
    });
  return { timers, transport, vips, announcer, events, inst, adverts, spec };
}

const PEER_ADVERT = (priority: number) => ({ version: 3 as const, vrid: 51, priority, intervalCs: 100, addresses: ['192.0.2.50'] });
// priority 150, 1 s adverts: 3 * 1000 + (256 - 150) * 1000 / 256
const MASTER_DOWN_MS = 3000 + (106 * 1000) / 256;

describe('VrrpInstance', () => {
  it('removes stale VIPs on start, then becomes Master after Master_Down_Interval: VIP added before the first advert', async () => {
    const t = setup();
    await t.inst.start();
    await flush();
    expect(t.vips.log).toEqual(['remove 192.0.2.50']);
    expect(t.inst.status().state).toBe('Backup');
    await t.timers.advance(MASTER_DOWN_MS - 10);
    expect(t.inst.status().state).toBe('Backup');
    await t.timers.advance(20);
    expect(t.inst.status()).toMatchObject({ state: 'Master', effectivePriority: 150, masterAddress: '192.0.2.1', holdingVips: true });
    expect(t.vips.log).toEqual(['remove 192.0.2.50', 'add 192.0.2.50']);
    expect(t.adverts()).toEqual([{ priority: 150, dest: '224.0.0.18' }]);
    expect(t.announcer.sent).toEqual(['192.0.2.50']);
    await t.timers.advance(1000);
    expect(t.adverts()).toHaveLength(2);
    expect(t.announcer.sent).toHaveLength(2); // garp repeat 2, 100 ms apart
    const states = t.events.filter((e) => e.type === 'vrrp.state').map((e) => (e.type === 'vrrp.state' ? `${e.from}->${e.to}` : ''));
    expect(states).toEqual(['INIT->BACKUP', 'BACKUP->MASTER']);
    expect(t.inst.status().counters.advertsSent).toBe(2);
  });

  it('a higher-priority advert sends a Master back to Backup and releases the VIP', async () => {
    const t = setup();
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    t.transport.deliverAdvert(PEER_ADVERT(200), '192.0.2.2');
    await flush();
    expect(t.inst.status()).toMatchObject({ state: 'Backup', masterAddress: '192.0.2.2', holdingVips: false, counters: { advertsReceived: 1 } });
    expect(t.vips.log.at(-1)).toBe('remove 192.0.2.50');
    expect(t.vips.present.size).toBe(0);
  });

  it('counts dropped adverts by reason and does not act on them (TTL 64, wrong VRID)', async () => {
    const t = setup();
    await t.inst.start();
    t.transport.deliverAdvert(PEER_ADVERT(200), '192.0.2.2', { ttl: 64 });
    t.transport.deliverAdvert({ ...PEER_ADVERT(200), vrid: 52 }, '192.0.2.2');
    t.transport.deliver({ bytes: Buffer.from([1, 2, 3]), src: '192.0.2.2', dst: '224.0.0.18', ttlOrHopLimit: 255, ifindex: 2 });
    await t.timers.advance(MASTER_DOWN_MS + 1);
    const s = t.inst.status();
    expect(s.state).toBe('Master');
    expect(s.counters.drops['bad-ttl']).toBe(1);
    expect(s.counters.drops['bad-vrid']).toBe(1);
    expect(s.counters.drops['bad-length']).toBe(1);
    expect(s.counters.advertsReceived).toBe(0);
  });

  it('uses the multicast group as destination when the transport does not know it (UDP), so the checksum verifies', async () => {
    const t = setup();
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    const { encodeAdvert } = await import('../../../src/vrrp/codec.js');
    const bytes = Buffer.from(encodeAdvert(PEER_ADVERT(200), { family: 4, src: '192.0.2.2', dst: '224.0.0.18' }));
    t.transport.deliver({ bytes, src: '192.0.2.2', dst: null, ttlOrHopLimit: null, ifindex: null });
    await flush();
    expect(t.inst.status().state).toBe('Backup');
  });

  it('step-down is make-before-break: priority 0 first, VIP kept until the new master is heard', async () => {
    const t = setup();
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    t.inst.stepDown('test');
    await flush();
    expect(t.adverts().at(-1)).toEqual({ priority: 0, dest: '224.0.0.18' });
    expect(t.inst.status()).toMatchObject({ state: 'Backup', holdingVips: true });
    expect(t.vips.present.has('192.0.2.50')).toBe(true);
    t.transport.deliverAdvert(PEER_ADVERT(100), '192.0.2.2');
    await flush();
    expect(t.inst.status().holdingVips).toBe(false);
    expect(t.vips.present.has('192.0.2.50')).toBe(false);
    // After a step-down we behave as nopreempt: the lower-priority master keeps the VIP while it advertises...
    for (let i = 0; i < 10; i++) {
      await t.timers.advance(1000);
      t.transport.deliverAdvert(PEER_ADVERT(100), '192.0.2.2');
    }
    expect(t.inst.status().state).toBe('Backup');
    // ...and only when it falls silent do we take over again.
    await t.timers.advance(MASTER_DOWN_MS + 1);
    expect(t.inst.status().state).toBe('Master');
  });

  it('stop() as Master with no peer: priority 0, then releases after the hold time, closes the transport', async () => {
    const t = setup();
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    let done = false;
    const stopping = t.inst.stop().then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    expect(t.vips.present.has('192.0.2.50')).toBe(true);
    await t.timers.advance(MASTER_DOWN_MS + 1);
    await stopping;
    expect(t.vips.present.size).toBe(0);
    expect(t.transport.closed).toBe(true);
    expect(t.adverts().filter((a) => a.priority === 0)).toHaveLength(1);
    expect(t.inst.status().state).toBe('Initialize');
    expect(t.timers.count()).toBe(0);
  });

  it('own interface down: Fault without a priority-0 advert (the link cannot carry it), VIP released; up again: Backup', async () => {
    const t = setup();
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    const sent = t.transport.sent.length;
    t.inst.setTrackedState([{ kind: 'interface', name: 'eth0', up: false }]);
    await flush();
    expect(t.inst.status()).toMatchObject({ state: 'Fault', holdingVips: false, faultReasons: ['interface eth0 down (weight 0)'] });
    expect(t.transport.sent.length).toBe(sent);
    expect(t.vips.present.size).toBe(0);
    t.inst.setTrackedState([{ kind: 'interface', name: 'eth0', up: true }]);
    await flush();
    expect(t.inst.status().state).toBe('Backup');
  });

  it('weighted tracking changes the effective priority and the advertised one', async () => {
    const t = setup('', [{ kind: 'script', name: 'chk', weight: -60, up: true }]);
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    t.inst.setTrackedState([{ kind: 'script', name: 'chk', up: false }]);
    await t.timers.advance(1000);
    expect(t.inst.status()).toMatchObject({ basePriority: 150, effectivePriority: 90 });
    expect(t.adverts().at(-1)?.priority).toBe(90);
  });

  it('a lower-priority master while we are Master: split brain reported, answered, VIPs re-announced, then cleared', async () => {
    const t = setup();
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    await t.timers.advance(500); // first garp burst done
    const announced = t.announcer.sent.length;
    const sent = t.transport.sent.length;
    t.transport.deliverAdvert(PEER_ADVERT(100), '192.0.2.2');
    await t.timers.advance(0);
    expect(t.inst.status().state).toBe('Master');
    expect(t.transport.sent.length).toBe(sent + 1);
    expect(t.announcer.sent.length).toBeGreaterThan(announced);
    expect(t.events.filter((e) => e.type === 'vrrp.split_brain')).toMatchObject([{ peer: '192.0.2.2', cleared: false }]);
    await t.timers.advance(4_500);
    expect(t.events.filter((e) => e.type === 'vrrp.split_brain')).toMatchObject([{ cleared: false }, { cleared: true }]);
  });

  it('measures timer lateness', async () => {
    const t = setup();
    await t.inst.start();
    t.timers.lateByMs = 7;
    await t.timers.advance(MASTER_DOWN_MS + 20);
    const l = t.inst.status().timerLateness;
    expect(l.count).toBeGreaterThan(0);
    expect(l.maxMs).toBeGreaterThanOrEqual(6);
    expect(l.maxMs).toBeLessThanOrEqual(8);
  });

  it('unicast: one advert per peer, each with its own destination in the checksum', async () => {
    const t = setup('unicast_peers: [192.0.2.2, 192.0.2.3]');
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    expect(t.adverts()).toEqual([
      { priority: 150, dest: '192.0.2.2' },
      { priority: 150, dest: '192.0.2.3' },
    ]);
  });

  it('a failing VIP add is reported as vip.error and counted; send errors are counted', async () => {
    const t = setup();
    t.vips.failAdd = true;
    t.transport.failSends = true;
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    const s = t.inst.status();
    expect(s.state).toBe('Master');
    expect(s.counters.vipErrors).toBe(1);
    expect(s.counters.sendErrors).toBe(1);
    expect(t.events.find((e) => e.type === 'vip.error')).toMatchObject({ instance: 'vi1', address: '192.0.2.50', interface: 'eth0' });
  });

  it('v2 with a password puts it in the advert', async () => {
    const t = setup('version: 2\nauth: { type: pass, secret: pw }');
    await t.inst.start();
    await t.timers.advance(MASTER_DOWN_MS + 1);
    const d = decodeAdvert(t.transport.sent[0]?.bytes ?? new Uint8Array(), { family: 4, src: '192.0.2.1', dst: '224.0.0.18' });
    expect(d.ok && d.value.authType).toBe(1);
    expect(d.ok && Buffer.from(d.value.authData ?? []).toString('utf8').replace(/\0+$/, '')).toBe('pw');
  });

  it('hmac: two lvskeep instances with the same secret accept each other; a wrong secret is dropped', async () => {
    const a = setup('auth: { type: hmac, secret: s3cret }');
    const b = setup('auth: { type: hmac, secret: s3cret }');
    const c = setup('auth: { type: hmac, secret: other }');
    for (const x of [a, b, c]) await x.inst.start();
    await a.timers.advance(MASTER_DOWN_MS + 1);
    const advert = a.transport.sent[0];
    if (!advert) throw new Error('no advert');
    // b and c see it as coming from another router (192.0.2.9 cannot be used: the MAC binds the source).
    const packet = { bytes: Buffer.from(advert.bytes), src: '192.0.2.1', dst: '224.0.0.18', ttlOrHopLimit: 255, ifindex: 2 };
    b.spec.machine.primaryAddress = '192.0.2.7';
    c.spec.machine.primaryAddress = '192.0.2.7';
    b.transport.deliver(packet);
    c.transport.deliver(packet);
    b.transport.deliver(packet); // replay
    expect(c.inst.status().counters.drops['hmac-forged']).toBe(1);
    expect(b.inst.status().counters.advertsReceived).toBe(1);
    expect(b.inst.status().counters.drops['hmac-replay']).toBe(1);
  });
});
