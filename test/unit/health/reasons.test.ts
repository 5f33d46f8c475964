import { describe, expect, it } from 'vitest';
import { socketErrorReason } from '../../../src/health/reasons.js';

const err = (message: string, code?: string, cause?: unknown): Error => Object.assign(new Error(message, cause ? { cause } : undefined), code ? { code } : {});

describe('socket error reasons', () => {
  it.each([
    [err('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 'connection refused'],
    [err('read ECONNRESET', 'ECONNRESET'), 'connection reset by peer'],
    [err('connect EHOSTUNREACH', 'EHOSTUNREACH'), 'host unreachable'],
    [err('bind EADDRNOTAVAIL', 'EADDRNOTAVAIL'), 'source address not available'],
    [err('certificate has expired', 'CERT_HAS_EXPIRED'), 'TLS: certificate has expired'],
    [err('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), 'TLS: self-signed certificate'],
    [err('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), 'TLS: wrong version number'],
    [err('other side closed', 'UND_ERR_SOCKET'), 'connection closed by server before a complete response'],
    [err('fetch failed', 'UND_ERR_SOCKET', err('certificate has expired', 'CERT_HAS_EXPIRED')), 'TLS: certificate has expired'],
    [err('strange', 'EWHATEVER'), 'strange (EWHATEVER)'],
    ['a string', 'a string'],
  ])('%s -> %s', (e, want) => {
    expect(socketErrorReason(e)).toBe(want);
  });
});
