// The addon's argument and state checks with real sockets (root for CAP_NET_RAW). Nothing here sends a
// packet or changes an interface: every call fails or configures only the test's own socket.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requireRoot } from '../../harness/privileges.js';
import { loadNativeAddon, type NativeRawSocket } from '../../../src/vrrp/transport/native.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

requireRoot('net/vrrp-io/native-socket')('native RawSocket error paths', () => {
  const addon = loadNativeAddon();

  it('reports errno names as error codes, naming the call and argument', () => {
    const s = new addon.RawSocket(4, 112);
    try {
      expect(() => s.bindAddress('203.0.113.99', 0)).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL', message: expect.stringMatching(/^bind\(203\.0\.113\.99, scope 0\)/) }));
      expect(() => s.bindToDevice('lkno0')).toThrow(expect.objectContaining({ code: 'ENODEV', message: expect.stringMatching(/SO_BINDTODEVICE, lkno0/) }));
      expect(() => s.joinGroup('224.0.0.18', 999_999)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
      expect(() => s.setIpv6Checksum(6)).toThrow(expect.objectContaining({ code: 'EPROTONOSUPPORT' }));
    } finally {
      s.close();
    }
  });

  it('validates arguments instead of crashing', () => {
    const s = new addon.RawSocket(6, 112);
    const loose = s as unknown as Record<string, (...a: unknown[]) => unknown>; // call with wrong types on purpose
    try {
      expect(() => loose.setTtl?.call(s, 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => loose.setTtl?.call(s, 1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => loose.setTtl?.call(s, '255')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => loose.joinGroup?.call(s, '224.0.0.18', 1)).toThrow(/not an IPv6 address/);
      expect(() => loose.joinGroup?.call(s, 'ff02::12')).toThrow(expect.objectContaining({ code: 'ERR_MISSING_ARGS' }));
      expect(() => loose.bindToDevice?.call(s, 'x'.repeat(16))).toThrow(/too long/);
      expect(() => loose.send?.call(s, 'not a buffer', 'ff02::12', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => loose.send?.call(s, Buffer.alloc(0), 'ff02::12', 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => loose.send?.call(s, Buffer.alloc(70_000), 'ff02::12', 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => loose.send?.call(s, Buffer.alloc(4), 'ff02::12%eth0', 0)).toThrow(/not an IPv6 address/);
      expect(() => loose.startReceiving?.call(s, 'nope')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      // V8 checks the receiver of class methods itself ("Illegal invocation") before our C code runs.
      expect(() => loose.setTtl?.call({}, 255)).toThrow(TypeError);
      expect(() => new addon.RawSocket(5 as 4, 112)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => new addon.RawSocket(4, 256)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => addon.sendEthernetFrame(1, Buffer.alloc(10))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => addon.sendEthernetFrame(0, Buffer.alloc(60))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    } finally {
      s.close();
    }
  });

  it('guards receive state: one poll at a time, restartable, and every method fails cleanly after close', () => {
    const s: NativeRawSocket = new addon.RawSocket(4, 112);
    s.startReceiving(() => undefined);
    expect(() => s.startReceiving(() => undefined)).toThrow(expect.objectContaining({ code: 'EALREADY' }));
    s.stopReceiving();
    s.startReceiving(() => undefined);
    s.close();
    s.close();
    expect(s.isClosed()).toBe(true);
    expect(() => s.setTtl(255)).toThrow(expect.objectContaining({ code: 'EBADF', message: 'RawSocket.setTtl: socket is closed' }));
    expect(() => s.send(Buffer.alloc(4), '192.0.2.1', 0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => s.startReceiving(() => undefined)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('closes each fd exactly once: 500 open/poll/close cycles leave the fd count unchanged', async () => {
    const before = openFds();
    for (let i = 0; i < 500; i++) {
      const s = new addon.RawSocket(i % 2 === 0 ? 4 : 6, 112);
      s.startReceiving(() => undefined);
      s.close();
    }
    // uv_close completes on a later loop turn; let it run before counting.
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(before);
  });

  it('reads interface index and hardware type', () => {
    expect(addon.interfaceInfo('lo')).toEqual({ index: 1, hwType: 772, mac: Buffer.alloc(6) });
    expect(() => addon.interfaceInfo('lkno0')).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });
});

describe('native addon', () => {
  it('exports the ABI version the loader expects', () => {
    expect(loadNativeAddon().abiVersion).toBe(1);
  });
});
