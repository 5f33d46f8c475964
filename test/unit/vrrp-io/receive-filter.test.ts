import { describe, expect, it } from 'vitest';
import type { NativePacket } from '../../../src/vrrp/transport/native.js';
import { filterNativePacket } from '../../../src/vrrp/transport/receive-filter.js';

const base: NativePacket = { payload: Buffer.from('3101640100640000c000020a', 'hex'), src: '192.0.2.1', dst: '224.0.0.18', ttl: 255, ifindex: 3, truncated: false };

describe('filterNativePacket', () => {
  it('accepts a packet from the expected interface, passing TTL through unjudged', () => {
    expect(filterNativePacket(base, 3)).toEqual({ accept: { bytes: base.payload, src: '192.0.2.1', dst: '224.0.0.18', ttlOrHopLimit: 255, ifindex: 3 } });
    // TTL 64 is the VRRP layer's decision (RFC 5798 receive checks), so it still reaches it.
    expect(filterNativePacket({ ...base, ttl: 64 }, 3)).toMatchObject({ accept: { ttlOrHopLimit: 64 } });
  });

  it('maps "unknown" sentinels to null', () => {
    expect(filterNativePacket({ ...base, ttl: -1, dst: '', ifindex: 0 }, 3)).toMatchObject({ accept: { ttlOrHopLimit: null, dst: null, ifindex: null } });
  });

  it('drops with a counted reason and a detail naming the sender', () => {
    expect(filterNativePacket({ ...base, ifindex: 4 }, 3)).toEqual({ drop: 'wrong-interface', detail: 'from 192.0.2.1: arrived on ifindex 4, expected 3' });
    expect(filterNativePacket({ ...base, truncated: true }, 3)).toMatchObject({ drop: 'truncated' });
    expect(filterNativePacket({ ...base, payload: Buffer.alloc(0), malformed: 'IPv4 header length (IHL) out of range' }, 3)).toEqual({
      drop: 'malformed',
      detail: 'from 192.0.2.1: IPv4 header length (IHL) out of range',
    });
  });

  it('in unicast mode accepts only configured peers', () => {
    const peers = new Set(['192.0.2.2']);
    expect(filterNativePacket(base, 3, peers)).toMatchObject({ drop: 'unknown-peer' });
    expect(filterNativePacket({ ...base, src: '192.0.2.2' }, 3, peers)).toHaveProperty('accept');
  });
});
