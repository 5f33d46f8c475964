/**
 * Adapter from a validated check (src/config) to the health checkers' own spec type (src/health). The only
 * I/O it needs (reading a CA file, resolving a user name) is injected, so the mapping itself stays pure.
 */
import type { CheckConfig } from '../config/types.js';
import type { CheckSpec, CommonCheckSpec, HealthStatus } from '../health/types.js';

export interface CheckSpecIo {
  /** PEM text of an https check's ca_file. */
  readCaFile(path: string): string;
  /** Numeric ids of a script check's user, or undefined when there is no such user. */
  lookupUser(name: string): { uid: number; gid: number } | undefined;
}

export class CheckSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckSpecError';
  }
}

/**
 * `where` names the real server for errors (`tcp 203.0.113.1:80 -> 198.51.100.11:80`). `assume` overrides the
 * configured assumption (the daemon assumes what the kernel table already says, so a restart does not flap).
 */
export function checkSpecFromConfig(c: CheckConfig, where: string, io: CheckSpecIo, assume?: HealthStatus): CheckSpec {
  const common: CommonCheckSpec = {
    intervalMs: c.interval,
    timeoutMs: c.timeout,
    rise: c.rise,
    fall: c.fall,
    retries: c.retries,
    retryDelayMs: c.retry_delay,
    assume: assume ?? c.assume,
    jitterPercent: c.jitter,
  };
  if (c.connect) common.connect = { address: c.connect.address, port: c.connect.port };
  if (c.bind) common.bindAddress = c.bind.address;
  switch (c.type) {
    case 'http':
    case 'https': {
      const spec: CheckSpec = {
        ...common,
        type: c.type,
        method: c.method,
        path: c.path,
        expect: { status: c.expect.status.map((s) => [s.from, s.to] as const) },
        headers: { ...(c.headers ?? {}) },
      };
      if (c.host !== undefined) spec.host = c.host;
      if (c.expect.body !== undefined) spec.expect.bodyRegex = c.expect.body;
      if (c.expect.digest !== undefined) spec.expect.digest = { ...c.expect.digest };
      if (c.type === 'https') {
        spec.tls = { verify: c.tls.verify };
        if (c.tls.sni !== undefined) spec.tls.sni = c.tls.sni;
        if (c.tls.ca_file !== undefined) {
          try {
            spec.tls.ca = io.readCaFile(c.tls.ca_file);
          } catch (err) {
            throw new CheckSpecError(`${where}: check.tls.ca_file ${c.tls.ca_file}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
      return spec;
    }
    case 'tcp': {
      const spec: CheckSpec = { ...common, type: 'tcp' };
      if (c.send !== undefined) spec.send = Buffer.from(c.send, 'utf8');
      if (c.expect !== undefined) spec.expect = Buffer.from(c.expect, 'utf8');
      return spec;
    }
    case 'script': {
      const spec: CheckSpec = { ...common, type: 'script', command: [...c.command], dynamicWeight: c.dynamic_weight };
      if (c.user !== undefined) {
        const ids = io.lookupUser(c.user);
        if (!ids) throw new CheckSpecError(`${where}: check.user: no user named ${c.user} on this host`);
        spec.user = ids;
      }
      return spec;
    }
    case 'dns':
      return { ...common, type: 'dns', name: c.name, recordType: c.record_type };
  }
}
