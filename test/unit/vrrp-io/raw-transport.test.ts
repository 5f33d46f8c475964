// The raw transport's wiring against a fake addon: which socket options it sets (the things VRRP
// depends on: TTL 255, loop off, group join on the right ifindex, send-only input discarded), how it
// filters and delivers batches, and how failures are reported. Real sockets are in test/net/vrrp-io.
import { describe, expect, it } from 'vitest';
import type { NativeAddon, NativePacket, NativeRawSocket, NativeReceiveCallback } from '../../../src/vrrp/transport/native.js';
import { createRawTransport } from '../../../src/vrrp/transport/raw.js';
import type { ReceivedVrrpPacket } from '../../../src/vrrp/transport/types.js';

interface FakeSocket {
  family: 4 | 6;
  calls: unknown[][];
  callback?: NativeReceiveCallback;
  closed: number;
}

function fakeAddon(opts: { failOn?: string; sendError?: (dest: string) => Error | undefined } = {}) {
  const sockets: FakeSocket[] = [];
  class RawSocket {
    private readonly s: FakeSocket;
    constructor(family: 4 | 6, protocol: number) {
      if (protocol !== 112) throw new Error('expected protocol 112');
      this.s = { family, calls: [], closed: 0 };
      sockets.push(this.s);
      // Every method records itself; failOn makes one throw like the addon does (errno code set).
      return new Proxy(this, {
        get: (target, name: string) => {
          if (name === 'close') return () => void target.s.closed++;
          if (name === 'isClosed') return () => target.s.closed > 0;
          return (...args: unknown[]) => {
            target.s.calls.push([name, ...args]);
            if (name === opts.failOn) throw Object.assign(new Error(`setsockopt(${name}): No such device (ENODEV)`), { code: 'ENODEV' });
            if (name === 'startReceiving') target.s.callback = args[0] as NativeReceiveCallback;
            if (name === 'send') {
              const err = opts.sendError?.(args[1] as string);
              if (err) throw err;
              return (args[0] as Buffer).length;
            }
            return undefined;
          };
        },
      });
    }
  }
  const addon = {
    abiVersion: 1,
    RawSocket: RawSocket as unknown as new (family: 4 | 6, protocol: number) => NativeRawSocket,
    interfaceInfo: (ifname: string) => {
      if (ifname !== 'eth0') throw Object.assign(new Error(`if_nametoindex(${ifname}): No such device (ENODEV)`), { code: 'ENODEV' });
      return { index: 5, hwType: 1, mac: Buffer.alloc(6) };
    },
    sendEthernetFrame: () => 0,
  } as NativeAddon;
  return { addon, sockets };
}

const pkt = (over: Partial<NativePacket> = {}): NativePacket => ({ payload: Buffer.from([0x31, 1]), src: '192.0.2.2', dst: '224.0.0.18', ttl: 255, ifindex: 5, truncated: false, ...over });

describe('createRawTransport (fake addon)', () => {
  it('opens a send socket and a receive socket with the VRRP options', () => {
    const { addon, sockets } = fakeAddon();
    createRawTransport({ family: 4, interface: 'eth0', source: '192.0.2.1' }, { addon });
    expect(sockets).toHaveLength(2);
    expect(sockets[0]?.calls).toEqual([
      ['bindToDevice', 'eth0'],
      ['bindAddress', '192.0.2.1', 0],
      ['setTtl', 255],
      ['setMulticastLoop', false],
      ['setMulticastInterface', 5],
      ['dropAllInput'],
    ]);
    expect(sockets[1]?.calls.map((c) => c.slice(0, 3))).toEqual([
      ['bindToDevice', 'eth0'],
      ['setMulticastAll', false],
      ['joinGroup', '224.0.0.18', 5],
      ['startReceiving', expect.any(Function)],
    ]);
  });

  it('IPv6: binds the link-local source with the interface scope and sends to ff02::12 scoped', async () => {
    const { addon, sockets } = fakeAddon();
    const t = createRawTransport({ family: 6, interface: 'eth0', source: 'fe80::1' }, { addon });
    expect(sockets[0]?.calls).toContainEqual(['bindAddress', 'fe80::1', 5]);
    expect(sockets[1]?.calls).toContainEqual(['joinGroup', 'ff02::12', 5]);
    await t.send(Buffer.from([1, 2, 3]));
    expect(sockets[0]?.calls.at(-1)).toEqual(['send', Buffer.from([1, 2, 3]), 'ff02::12', 5]);
  });

  it('unicast: joins no group, sends to every peer, and accepts only peers', async () => {
    const { addon, sockets } = fakeAddon();
    const t = createRawTransport({ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['192.0.2.2', '192.0.2.3'] }, { addon });
    expect(sockets[1]?.calls.some((c) => c[0] === 'joinGroup')).toBe(false);
    await t.send(new Uint8Array([9]));
    expect(sockets[0]?.calls.filter((c) => c[0] === 'send').map((c) => c[2])).toEqual(['192.0.2.2', '192.0.2.3']);
    const got: ReceivedVrrpPacket[] = [];
    t.onPacket((p) => got.push(p));
    sockets[1]?.callback?.(null, [pkt({ src: '192.0.2.9' }), pkt()]);
    expect(got.map((p) => p.src)).toEqual(['192.0.2.2']);
    expect(t.stats()).toMatchObject({ received: 2, delivered: 1, sent: 2, dropped: { 'unknown-peer': 1 } });
  });

  it('delivers batches, counts drops, survives a throwing listener and a receive error', () => {
    const { addon, sockets } = fakeAddon();
    const t = createRawTransport({ family: 4, interface: 'eth0', source: '192.0.2.1' }, { addon });
    const got: ReceivedVrrpPacket[] = [];
    t.onPacket(() => {
      throw new Error('listener bug');
    });
    const off = t.onPacket((p) => got.push(p));
    const cb = sockets[1]?.callback;
    cb?.(null, [pkt(), pkt({ ifindex: 9 }), pkt({ truncated: true }), pkt({ malformed: 'IPv4 datagram shorter than a 20-byte header', payload: Buffer.alloc(0) }), pkt({ ttl: 64 })]);
    cb?.(Object.assign(new Error('recvmsg: No buffer space available (ENOBUFS)'), { code: 'ENOBUFS' }), []);
    expect(got.map((p) => p.ttlOrHopLimit)).toEqual([255, 64]);
    expect(got[0]).toEqual({ bytes: Buffer.from([0x31, 1]), src: '192.0.2.2', dst: '224.0.0.18', ttlOrHopLimit: 255, ifindex: 5 });
    expect(t.stats()).toEqual({
      received: 5,
      delivered: 2,
      sent: 0,
      sendErrors: 0,
      dropped: { 'wrong-interface': 1, 'unknown-peer': 0, malformed: 1, truncated: 1, 'receive-error': 1, 'listener-error': 2 },
    });
    off();
    cb?.(null, [pkt()]);
    expect(got).toHaveLength(2);
  });

  it('reports send failures naming interface and destination, keeping the errno code', async () => {
    const { addon } = fakeAddon({ sendError: (d) => (d === '192.0.2.3' ? Object.assign(new Error('sendto(192.0.2.3): Network is unreachable (ENETUNREACH)'), { code: 'ENETUNREACH' }) : undefined) });
    const t = createRawTransport({ family: 4, interface: 'eth0', source: '192.0.2.1', peers: ['192.0.2.2', '192.0.2.3'] }, { addon });
    await expect(t.send(Buffer.from([1]))).rejects.toMatchObject({
      code: 'ENETUNREACH',
      message: expect.stringMatching(/^raw VRRP transport on eth0 \(IPv4, source 192\.0\.2\.1\): send to 192\.0\.2\.3: sendto/),
    });
    expect(t.stats()).toMatchObject({ sent: 1, sendErrors: 1 });
  });

  it('closes both sockets on a setup failure and names the place', () => {
    const { addon, sockets } = fakeAddon({ failOn: 'joinGroup' });
    expect(() => createRawTransport({ family: 4, interface: 'eth0', source: '192.0.2.1' }, { addon })).toThrow(
      /^raw VRRP transport on eth0 \(IPv4, source 192\.0\.2\.1\): setsockopt\(joinGroup\)/,
    );
    expect(sockets.map((s) => s.closed)).toEqual([1, 1]);
    expect(() => createRawTransport({ family: 4, interface: 'eth9', source: '192.0.2.1' }, { addon })).toThrow(/on eth9.*ENODEV/);
  });

  it('close() is idempotent, closes each socket once, and send afterwards rejects', async () => {
    const { addon, sockets } = fakeAddon();
    const t = createRawTransport({ family: 4, interface: 'eth0', source: '192.0.2.1' }, { addon });
    await t.close();
    await t.close();
    expect(sockets.map((s) => s.closed)).toEqual([1, 1]);
    await expect(t.send(Buffer.from([1]))).rejects.toThrow(/send after close/);
  });
});
