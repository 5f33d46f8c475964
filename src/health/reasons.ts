/** Turn the errors of sockets, TLS and undici into the short human reasons that end up in logs and alerts. */
import { errnoCode, errorMessage } from '../util/errors.js';

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'EPROTO',
]);

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection closed by peer while sending',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ETIMEDOUT: 'connection timed out (kernel)',
  EADDRNOTAVAIL: 'source address not available',
  EADDRINUSE: 'source address in use',
  EINVAL: 'invalid address',
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  UND_ERR_SOCKET: 'connection closed by server before a complete response',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'response too large',
};

/** undici wraps the socket error in `cause` for some failures; look there too. */
function innermost(err: unknown): unknown {
  let cur = err;
  for (let i = 0; i < 4; i++) {
    const code = errnoCode(cur);
    if (code && code !== 'UND_ERR_SOCKET') return cur;
    const cause = typeof cur === 'object' && cur !== null && 'cause' in cur ? (cur as { cause: unknown }).cause : undefined;
    if (cause === undefined) return cur;
    cur = cause;
  }
  return cur;
}

export function socketErrorReason(err: unknown): string {
  const inner = innermost(err);
  const code = errnoCode(inner) ?? errnoCode(err);
  const msg = errorMessage(inner);
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) return `TLS: ${msg}`;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  return code ? `${msg} (${code})` : msg;
}
