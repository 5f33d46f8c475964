import { describe, expect, it } from 'vitest';
import { connectionOutlivesInterval } from '../../../src/health/http.js';

/** undici's raw header list: [name, value, name, value, ...] as Buffers. */
function raw(headers: Record<string, string>): Buffer[] {
  return Object.entries(headers).flatMap(([k, v]) => [Buffer.from(k, 'latin1'), Buffer.from(v, 'latin1')]);
}

describe('reuse_connection: does the server keep the connection until the next probe', () => {
  it('no hint, no headers: kept', () => {
    expect(connectionOutlivesInterval(undefined, 1000)).toBe(true);
    expect(connectionOutlivesInterval(raw({ 'content-length': '3' }), 1000)).toBe(true);
    expect(connectionOutlivesInterval(raw({ Connection: 'keep-alive' }), 1000)).toBe(true);
  });

  it('Connection: close (any case, in a token list): not kept', () => {
    expect(connectionOutlivesInterval(raw({ connection: 'close' }), 1000)).toBe(false);
    expect(connectionOutlivesInterval(raw({ Connection: 'Upgrade, Close' }), 1000)).toBe(false);
  });

  it('a Keep-Alive timeout hint, less 1 s, shorter than the interval: not kept', () => {
    // node's http server with keepAliveTimeout 1000 says `Keep-Alive: timeout=1`: undici keeps it 0 s.
    expect(connectionOutlivesInterval(raw({ Connection: 'keep-alive', 'Keep-Alive': 'timeout=1' }), 1000)).toBe(false);
    expect(connectionOutlivesInterval(raw({ 'Keep-Alive': 'timeout=5' }), 5000)).toBe(false);
    expect(connectionOutlivesInterval(raw({ 'keep-alive': 'max=100, timeout=2' }), 1000)).toBe(true);
    expect(connectionOutlivesInterval(raw({ 'Keep-Alive': 'timeout=5' }), 1000)).toBe(true);
    expect(connectionOutlivesInterval(raw({ 'Keep-Alive': 'timeout=6' }), 5000)).toBe(true);
  });

  it('other headers of the same length, and a hint without a timeout, change nothing', () => {
    expect(connectionOutlivesInterval(raw({ 'x-close-me': 'close', 'keep-alive': 'max=5', 'last-modif': 'timeout=1' }), 1000)).toBe(true);
  });
});
