/**
 * VipManager through the `ip` command (iproute2), for hosts where the netlink package cannot load.
 * argv arrays through execFile, never a shell; every call bounded in time.
 */
import { execFile } from 'node:child_process';

import { describeVip, VipError, type Vip, type VipManager } from './types.js';
import { validateVip, vipFamily } from './vip-spec.js';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<CommandResult>;

/** Never rejects: spawn failures and timeouts come back as a result with a null or 127 code. */
export const execFileRunner: CommandRunner = (argv, timeoutMs) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      resolve({ code: 127, stdout: '', stderr: 'empty argv' });
      return;
    }
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (typeof e.code === 'string') return resolve({ code: 127, stdout: '', stderr: `${file}: ${e.code} ${e.message}` });
      resolve({ code: typeof e.code === 'number' ? e.code : null, stdout: stdout ?? '', stderr: `${stderr ?? ''}${e.killed ? `\ntimed out after ${timeoutMs} ms` : ''}` });
    });
  });

/** What an `ip addr` failure means, from its message (kernel extack text, or the older RTNETLINK line). */
export function classifyIpFailure(stderr: string): 'exists' | 'absent' | 'no-device' | 'other' {
  if (/address already assigned|File exists/i.test(stderr)) return 'exists';
  if (/address not found|Cannot assign requested address/i.test(stderr)) return 'absent';
  if (/Cannot find device|does not exist/i.test(stderr)) return 'no-device';
  return 'other';
}

const FAILURE_CODE = { exists: 'EEXIST', absent: 'EADDRNOTAVAIL', 'no-device': 'ENODEV', other: undefined } as const;

/** argv for add/remove; IPv6 VIPs skip duplicate address detection so they answer at once after failover. */
export function ipAddrArgv(ip: string, op: 'add' | 'del', vip: Vip): string[] {
  const argv = [ip, vipFamily(vip) === 6 ? '-6' : '-4', 'addr', op, `${vip.address}/${vip.prefix}`, 'dev', vip.dev];
  if (op === 'add' && vip.label !== undefined) argv.push('label', vip.label);
  if (op === 'add' && vipFamily(vip) === 6) argv.push('nodad');
  return argv;
}

interface IpJsonAddr {
  family?: unknown;
  local?: unknown;
  prefixlen?: unknown;
  label?: unknown;
}

/** Parse `ip -j addr show dev X`; entries without an address or prefix are skipped. */
export function parseIpAddrJson(stdout: string, ifname: string): Vip[] {
  const parsed: unknown = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
  if (!Array.isArray(parsed)) throw new Error('ip -j addr: expected a JSON array');
  const vips: Vip[] = [];
  for (const link of parsed as { ifname?: unknown; addr_info?: unknown }[]) {
    if (link?.ifname !== ifname || !Array.isArray(link.addr_info)) continue;
    for (const a of link.addr_info as IpJsonAddr[]) {
      if (typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
      const vip: Vip = { address: a.local, prefix: a.prefixlen, dev: ifname };
      if (a.family === 'inet' && typeof a.label === 'string' && a.label !== ifname) vip.label = a.label;
      vips.push(vip);
    }
  }
  return vips;
}

export interface Iproute2Options {
  runner?: CommandRunner;
  ip?: string;
  timeoutMs?: number;
}

export function createIproute2VipManager(opts: Iproute2Options = {}): VipManager {
  const run = opts.runner ?? execFileRunner;
  const ip = opts.ip ?? 'ip';
  const timeoutMs = opts.timeoutMs ?? 5000;

  const change = async (op: 'add' | 'del', vip: Vip): Promise<void> => {
    const operation = op === 'add' ? 'add' : 'remove';
    try {
      validateVip(vip);
    } catch (err) {
      throw new VipError(operation, describeVip(vip), (err as Error).message, 'EINVAL', err);
    }
    const argv = ipAddrArgv(ip, op, vip);
    const r = await run(argv, timeoutMs);
    if (r.code === 0) return;
    const kind = classifyIpFailure(r.stderr);
    if ((op === 'add' && kind === 'exists') || (op === 'del' && kind === 'absent')) return; // idempotent
    const detail = `${argv.join(' ')} failed (exit ${r.code ?? 'none'}): ${r.stderr.trim() || r.stdout.trim() || 'no output'}`;
    throw new VipError(operation, describeVip(vip), detail, FAILURE_CODE[kind]);
  };

  return {
    kind: 'iproute2',
    add: (vip) => change('add', vip),
    remove: (vip) => change('del', vip),
    async list(ifname: string): Promise<Vip[]> {
      const argv = [ip, '-j', 'addr', 'show', 'dev', ifname];
      const r = await run(argv, timeoutMs);
      if (r.code !== 0) {
        throw new VipError('list', ifname, `${argv.join(' ')} failed (exit ${r.code ?? 'none'}): ${r.stderr.trim()}`, FAILURE_CODE[classifyIpFailure(r.stderr)]);
      }
      try {
        return parseIpAddrJson(r.stdout, ifname);
      } catch (err) {
        throw new VipError('list', ifname, `unparseable output of ${argv.join(' ')}: ${(err as Error).message}`, 'EPROTO', err);
      }
    },
    close: () => Promise.resolve(),
  };
}
