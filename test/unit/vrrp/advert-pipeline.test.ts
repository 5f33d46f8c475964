// The codec and the state machine together: keepalived's real adverts drive our machine, our adverts for a
// keepalived-equivalent config are byte-identical to keepalived's, and HMAC replays are dropped and counted.
import { describe, expect, it } from 'vitest';
import { advertFields, multicastGroup, receiveAdvert, type ReplayState } from '../../../src/vrrp/advert-pipeline.js';
import { encodeAdvert, encodeIpv4Packet, encodeIpv6Packet, type PacketMeta } from '../../../src/vrrp/codec.js';
import { initialState, step, type VrrpInstanceConfig } from '../../../src/vrrp/state-machine.js';
import { countDrop, type DropCounters } from '../../../src/vrrp/validate.js';
import { hex, loadFixture } from './fixture-loader.js';

const vi4: VrrpInstanceConfig = {
  name: 'VI4', version: 3, family: 4, vrid: 51, priority: 100, intervalCs: 100, preempt: true, preemptDelayMs: 0,
  acceptMode: false, primaryAddress: '192.0.2.2', vips: ['192.0.2.100', '192.0.2.101'],
};
const none = { auth: { type: 'none' } } as const;
const meta4: PacketMeta = { family: 4, src: '192.0.2.1', dst: '224.0.0.18', ttl: 255 };

describe('keepalived interop through the pipeline', () => {
  it('our advert for keepalived\'s config is byte-identical to keepalived\'s (v3 IPv4, v3 IPv6, v2 PASS, priority 0)', () => {
    const [k4] = loadFixture('v3-ipv4');
    const ours4 = encodeIpv4Packet(advertFields({ ...vi4, primaryAddress: '192.0.2.1' }, 150, none.auth), { src: '192.0.2.1', dst: multicastGroup(4), id: 1 });
    expect(hex(ours4)).toBe(hex(k4 ?? new Uint8Array()));

    const [kStop] = loadFixture('v3-ipv4-stop');
    const stop = encodeIpv4Packet(advertFields(vi4, 0, none.auth), { src: '192.0.2.1', dst: multicastGroup(4), id: 7 });
    expect(hex(stop)).toBe(hex(kStop ?? new Uint8Array()));

    const [k6] = loadFixture('v3-ipv6');
    const vi6: VrrpInstanceConfig = { ...vi4, family: 6, vrid: 52, intervalCs: 50, vips: ['2001:db8::100', 'fe80::100'] };
    const ours6 = encodeIpv6Packet(advertFields(vi6, 200, none.auth), { src: 'fe80::ff:fe00:a', dst: multicastGroup(6), flowLabel: 0xb449f });
    expect(hex(ours6)).toBe(hex(k6 ?? new Uint8Array()));

    const [k2] = loadFixture('v2-auth-pass');
    const vi2: VrrpInstanceConfig = { ...vi4, version: 2, vrid: 53, vips: ['192.0.2.110'] };
    const ours2 = encodeIpv4Packet(advertFields(vi2, 120, { type: 'pass', password: 'lvs-pass' }), { src: '192.0.2.1', dst: multicastGroup(4), id: 1 });
    expect(hex(ours2)).toBe(hex(k2 ?? new Uint8Array()));
  });

  it('keepalived\'s priority-150 advert keeps our priority-100 backup in Backup; its priority-0 advert hands over after Skew_Time', () => {
    let s = step(initialState(vi4, 0), { type: 'startup' }, 0).state;
    for (const [i, pkt] of loadFixture('v3-ipv4').entries()) {
      const r = receiveAdvert(pkt.subarray(20), meta4, vi4, none, new Map());
      if (!r.ok) throw new Error(r.detail);
      s = step(s, r.event, 1000 * (i + 1)).state;
    }
    expect(s.state).toBe('Backup');
    expect(s.master).toEqual({ src: '192.0.2.1', priority: 150 });
    expect(s.timers['master-down']).toBe(5000 + 3609.375);
    const stop = receiveAdvert((loadFixture('v3-ipv4-stop')[0] ?? new Uint8Array()).subarray(20), meta4, vi4, none, new Map());
    if (!stop.ok) throw new Error(stop.detail);
    s = step(s, stop.event, 5500).state;
    expect(s.timers['master-down']).toBe(5500 + 609.375);
    expect(step(s, { type: 'master-down-timer-fired' }, 6109.375).state.state).toBe('Master');
  });

  it('a drop comes back with its reason and leaves the replay state alone', () => {
    const pkt = (loadFixture('v3-ipv4')[0] ?? new Uint8Array()).subarray(20);
    const replay: ReplayState = new Map([['192.0.2.1', 5n]]);
    const r = receiveAdvert(pkt, { ...meta4, ttl: 1 }, vi4, none, replay);
    expect(r).toMatchObject({ ok: false, reason: 'bad-ttl', detail: 'TTL 1, must be 255' });
    expect(r.replay).toBe(replay);
  });
});

describe('HMAC between two lvskeep routers', () => {
  const key = new Uint8Array(32).map((_, i) => i);
  const settings = { auth: { type: 'hmac', keys: new Map([[1, key]]) } } as const;
  const send = (counter: bigint, priority = 150): Uint8Array => encodeAdvert(advertFields(vi4, priority, settings.auth), meta4, { key, keyId: 1, counter });

  it('accepts increasing counters, drops and counts replays and forgeries', () => {
    let replay: ReplayState = new Map();
    let drops: DropCounters = {};
    const deliver = (payload: Uint8Array): boolean => {
      const r = receiveAdvert(payload, meta4, vi4, settings, replay);
      replay = r.replay;
      if (!r.ok) drops = countDrop(drops, r.reason);
      return r.ok;
    };
    const first = send(1000n);
    expect(deliver(first)).toBe(true);
    expect(deliver(send(1001n))).toBe(true);
    expect(replay.get('192.0.2.1')).toBe(1001n);
    expect(deliver(first)).toBe(false); // captured and replayed
    const forged = encodeAdvert(advertFields(vi4, 254, settings.auth), meta4, { key: new Uint8Array(32), keyId: 1, counter: 5000n });
    expect(deliver(forged)).toBe(false);
    expect(deliver(encodeAdvert(advertFields(vi4, 150, settings.auth), meta4))).toBe(false); // unsigned
    expect(replay.get('192.0.2.1')).toBe(1001n); // the forgery's counter was not remembered
    expect(drops).toEqual({ 'hmac-replay': 1, 'hmac-forged': 1, 'hmac-missing': 1 });
  });
});
