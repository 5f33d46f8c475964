/**
 * Network sysctls as lvskeep reads and writes them: through /proc/sys, which shows the calling process's own
 * network namespace (so a command run with `ip netns exec` changes that namespace only). Keys use sysctl(8)
 * notation; a dot inside an interface name is written as '/' (net.ipv4.conf.eth0/100.arp_ignore), as sysctl does.
 */
import { access, constants, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { errnoCode, errorMessage } from '../util/errors.js';

export const PROC_SYS = '/proc/sys';

const SEGMENT = /^[A-Za-z0-9_:@/+-]+$/;

/** `net.ipv4.conf.<dev>.<name>` with the sysctl(8) escaping of dots in the device name. */
export function confKey(family: 4 | 6, dev: string, name: string): string {
  return `net.ipv${family}.conf.${dev.replaceAll('.', '/')}.${name}`;
}

/** Path segments under /proc/sys; throws naming the key when it is not a plain net.* sysctl name. */
export function sysctlSegments(key: string): string[] {
  const parts = key.split('.');
  if (parts[0] !== 'net' || parts.length < 2 || !parts.every((p) => SEGMENT.test(p))) {
    throw new Error(`sysctl ${JSON.stringify(key)}: expected a net.* key such as net.ipv4.conf.all.arp_ignore`);
  }
  return parts.map((p) => p.replaceAll('/', '.')).map((p) => {
    if (p === '.' || p === '..') throw new Error(`sysctl ${JSON.stringify(key)}: "${p}" is not a name`);
    return p;
  });
}

export function sysctlPath(key: string, root: string = PROC_SYS): string {
  return join(root, ...sysctlSegments(key));
}

/** The interface a net.ipvX.conf.<dev>.* key belongs to (undefined for all/default and global keys). */
export function confDevice(key: string): string | undefined {
  const m = /^net\.ipv[46]\.conf\.([^.]+)\.[^.]+$/.exec(key);
  const dev = m?.[1]?.replaceAll('/', '.');
  return dev === undefined || dev === 'all' || dev === 'default' ? undefined : dev;
}

/** A sysctl operation that failed, with a message naming the key, its file and what to do about it. */
export class SysctlError extends Error {
  constructor(
    readonly key: string,
    readonly operation: 'read' | 'write',
    readonly code: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'SysctlError';
  }
}

/** Pure: the message for a failed read or write of `key` at `path` with errno `code`. */
export function describeSysctlFailure(key: string, path: string, operation: 'read' | 'write', code: string | undefined, detail: string): string {
  const dev = confDevice(key);
  switch (code) {
    case 'ENOENT':
      return dev !== undefined
        ? `unknown device ${dev}: ${path} does not exist (no such interface in this network namespace) [sysctl ${key}]`
        : `sysctl ${key} does not exist in this kernel (${path} missing)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied ${operation === 'write' ? 'writing' : 'reading'} ${path} (sysctl ${key}): run as root (CAP_NET_ADMIN in this network namespace)`;
    case 'EROFS':
      return `cannot write sysctl ${key}: ${path} is on a read-only /proc/sys (a container without write access to net sysctls?)`;
    default:
      return `${operation} sysctl ${key} (${path}) failed: ${detail}`;
  }
}

export interface SysctlIo {
  /** The value as the kernel prints it, trimmed. */
  read(key: string): Promise<string>;
  write(key: string, value: string): Promise<void>;
  /** Throws SysctlError when a later write would fail (missing file, no permission, read-only mount). */
  checkWritable(key: string): Promise<void>;
}

/** SysctlIo on /proc/sys (or another root, for tests). */
export function procSysIo(root: string = PROC_SYS): SysctlIo {
  const fail = (key: string, operation: 'read' | 'write', err: unknown): SysctlError => {
    const path = sysctlPath(key, root);
    const code = errnoCode(err);
    return new SysctlError(key, operation, code ?? 'EIO', describeSysctlFailure(key, path, operation, code, errorMessage(err)), err);
  };
  return {
    async read(key) {
      try {
        return (await readFile(sysctlPath(key, root), 'utf8')).trim();
      } catch (err) {
        throw fail(key, 'read', err);
      }
    },
    async write(key, value) {
      try {
        await writeFile(sysctlPath(key, root), `${value}\n`);
      } catch (err) {
        throw fail(key, 'write', err);
      }
    },
    async checkWritable(key) {
      try {
        await access(sysctlPath(key, root), constants.W_OK);
      } catch (err) {
        throw fail(key, 'write', err);
      }
    },
  };
}
