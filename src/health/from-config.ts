/**
 * Adapter from the parsed configuration (src/config) to the checkers' own input types. File look-ups are
 * injected, so the mapping itself stays pure and testable; `nodeLookups` does them for real. Users were resolved
 * to numeric ids when the configuration was loaded (src/config/users.ts).
 */
import { readFileSync } from 'node:fs';
import type { CheckConfig, RealServerConfig, VirtualServerConfig } from '../config/types.js';
import { formatEndpoint } from '../config/address.js';
import type { CheckSpec, CheckTarget, CommonCheckSpec } from './types.js';

export interface ConfigLookups {
  /** PEM text of a CA file. */
  readFile(path: string): string;
}

export const nodeLookups: ConfigLookups = {
  readFile: (path) => readFileSync(path, 'utf8'),
};

/** Where a check of `rs` belongs, for logs and the script environment. */
export function checkTargetOf(vs: VirtualServerConfig, rs: RealServerConfig): CheckTarget {
  return { address: rs.address.address, port: rs.address.port, virtualServer: vs.name };
}

/** Stable check id: `<virtual server name> -> <real server endpoint>`. */
export function checkIdOf(vs: VirtualServerConfig, rs: RealServerConfig): string {
  return `${vs.name} -> ${formatEndpoint(rs.address)}`;
}

/**
 * The checker spec of one real server's effective check. Throws an Error naming the virtual server, real
 * server and key when something cannot be mapped (unreadable CA file, no port to probe).
 */
export function checkSpecOf(vs: VirtualServerConfig, rs: RealServerConfig, check: CheckConfig, lookups: ConfigLookups = nodeLookups): CheckSpec {
  const where = `virtual server ${vs.name}, real server ${formatEndpoint(rs.address)}, check`;
  const common: CommonCheckSpec = {
    intervalMs: check.interval,
    timeoutMs: check.timeout,
    rise: check.rise,
    fall: check.fall,
    retries: check.retries,
    retryDelayMs: check.retry_delay,
    assume: check.assume,
    jitterPercent: check.jitter,
  };
  if (check.connect) common.connect = { address: check.connect.address, port: check.connect.port };
  if (check.bind) common.bindAddress = check.bind.address;
  const port = common.connect?.port ?? rs.address.port;
  if (check.type !== 'script' && port === 0) {
    throw new Error(`${where}: the real server has no port (fwmark service); set check.connect to the endpoint to probe`);
  }

  switch (check.type) {
    case 'http':
    case 'https': {
      const spec: CheckSpec = {
        ...common,
        type: check.type,
        method: check.method,
        path: check.path,
        expect: { status: check.expect.status.map((r) => [r.from, r.to] as const) },
        headers: { ...(check.headers ?? {}) },
      };
      if (check.host !== undefined) spec.host = check.host;
      if (check.reuse_connection) spec.reuseConnection = true;
      if (check.expect.body !== undefined) spec.expect.bodyRegex = check.expect.body;
      if (check.expect.digest !== undefined) spec.expect.digest = check.expect.digest;
      if (check.type === 'https') {
        spec.tls = { verify: check.tls.verify };
        if (check.tls.sni !== undefined) spec.tls.sni = check.tls.sni;
        if (check.tls.ca_file !== undefined) {
          try {
            spec.tls.ca = lookups.readFile(check.tls.ca_file);
          } catch (err) {
            throw new Error(`${where}.tls.ca_file ${check.tls.ca_file}: ${(err as Error).message}`);
          }
        }
      }
      return spec;
    }
    case 'tcp': {
      const spec: CheckSpec = { ...common, type: 'tcp' };
      if (check.send !== undefined) spec.send = Buffer.from(check.send, 'utf8');
      if (check.expect !== undefined) spec.expect = Buffer.from(check.expect, 'utf8');
      return spec;
    }
    case 'script': {
      const spec: CheckSpec = { ...common, type: 'script', command: [...check.command], dynamicWeight: check.dynamic_weight };
      if (check.user !== undefined) spec.user = { uid: check.user.uid, gid: check.user.gid };
      return spec;
    }
    case 'dns':
      return { ...common, type: 'dns', name: check.name, recordType: check.record_type };
  }
}
