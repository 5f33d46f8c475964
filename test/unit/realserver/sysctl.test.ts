import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { confDevice, confKey, describeSysctlFailure, procSysIo, SysctlError, sysctlPath, sysctlSegments } from '../../../src/realserver/sysctl.js';
import { formatChange, mergeSettings, planSysctls, sameSysctlValue } from '../../../src/realserver/sysctl-plan.js';

describe('sysctl keys', () => {
  it('escapes dots in interface names the way sysctl(8) does, and maps back to the /proc/sys path', () => {
    expect(confKey(4, 'eth0.100', 'arp_ignore')).toBe('net.ipv4.conf.eth0/100.arp_ignore');
    expect(sysctlPath('net.ipv4.conf.eth0/100.arp_ignore', '/proc/sys')).toBe('/proc/sys/net/ipv4/conf/eth0.100/arp_ignore');
    expect(confDevice('net.ipv4.conf.eth0/100.arp_ignore')).toBe('eth0.100');
    expect(confDevice('net.ipv4.conf.all.arp_ignore')).toBeUndefined();
    expect(confDevice('net.ipv4.ip_forward')).toBeUndefined();
  });

  it('refuses keys outside net.* and path tricks', () => {
    expect(() => sysctlSegments('kernel.panic')).toThrow(/net\.\* key/);
    expect(() => sysctlSegments('net.ipv4..x')).toThrow(/net\.\* key/);
    expect(() => sysctlSegments('net.ipv4.conf.//.x')).toThrow(/not a name/);
    expect(() => sysctlSegments('net.ipv4.conf.a b.x')).toThrow();
  });

  it('names the device for a missing conf/<dev>, the key for permission and read-only problems', () => {
    const p = '/proc/sys/net/ipv4/conf/eth9/arp_ignore';
    expect(describeSysctlFailure('net.ipv4.conf.eth9.arp_ignore', p, 'read', 'ENOENT', '')).toMatch(/^unknown device eth9: .*eth9\/arp_ignore does not exist/);
    expect(describeSysctlFailure('net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', 'read', 'ENOENT', '')).toMatch(/sysctl net.ipv4.ip_forward does not exist/);
    expect(describeSysctlFailure('net.ipv4.ip_forward', '/x', 'write', 'EACCES', '')).toMatch(/permission denied writing \/x \(sysctl net.ipv4.ip_forward\): run as root/);
    expect(describeSysctlFailure('net.ipv4.ip_forward', '/x', 'write', 'EROFS', '')).toMatch(/read-only \/proc\/sys/);
    expect(describeSysctlFailure('net.ipv4.ip_forward', '/x', 'write', 'EIO', 'boom')).toBe('write sysctl net.ipv4.ip_forward (/x) failed: boom');
  });
});

describe('procSysIo on a directory standing in for /proc/sys', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lvskeep-sysctl-'));
    await mkdir(join(root, 'net/ipv4/conf/eth0.100'), { recursive: true });
    await writeFile(join(root, 'net/ipv4/conf/eth0.100/arp_ignore'), '0\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads trimmed values and writes them back with a newline', async () => {
    const io = procSysIo(root);
    expect(await io.read('net.ipv4.conf.eth0/100.arp_ignore')).toBe('0');
    await io.checkWritable('net.ipv4.conf.eth0/100.arp_ignore');
    await io.write('net.ipv4.conf.eth0/100.arp_ignore', '1');
    expect(await readFile(join(root, 'net/ipv4/conf/eth0.100/arp_ignore'), 'utf8')).toBe('1\n');
  });

  it('turns a missing device into a SysctlError naming it', async () => {
    const io = procSysIo(root);
    const err = await io.read('net.ipv4.conf.eth9.arp_ignore').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SysctlError);
    expect((err as SysctlError).code).toBe('ENOENT');
    expect((err as Error).message).toMatch(/unknown device eth9/);
    await expect(io.checkWritable('net.ipv4.conf.eth9.arp_ignore')).rejects.toThrow(/unknown device eth9/);
  });
});

describe('planSysctls', () => {
  const w = (key: string, value: string) => ({ key, value, why: 'test' });

  it('lists changes with the value found, and what is already right', () => {
    const current = new Map([
      ['a', '0'],
      ['b', '2'],
    ]);
    const plan = planSysctls(current, [w('a', '1'), w('b', '2')]);
    expect(plan.changes).toEqual([{ key: 'a', from: '0', to: '1', why: 'test' }]);
    expect(plan.unchanged.map((u) => u.key)).toEqual(['b']);
    expect(formatChange(plan.changes[0]!)).toBe('a 0 -> 1');
  });

  it('compares multi-value sysctls by words, and marks an unread key as a change from "?"', () => {
    expect(sameSysctlValue('4096\t87380 ', '4096 87380')).toBe(true);
    expect(sameSysctlValue('1', '0')).toBe(false);
    expect(planSysctls(new Map(), [w('x', '1')]).changes).toEqual([{ key: 'x', from: '?', to: '1', why: 'test' }]);
  });

  it('merges duplicate keys that agree and refuses ones that contradict', () => {
    expect(mergeSettings([w('a', '1'), w('a', '1'), w('b', '0')]).map((s) => s.key)).toEqual(['a', 'b']);
    expect(() => mergeSettings([w('a', '1'), w('a', '2')])).toThrow(/sysctl a: wanted both 1 and 2/);
  });
});
