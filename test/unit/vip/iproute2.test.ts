import { describe, expect, it } from 'vitest';
import { classifyIpFailure, createIproute2VipManager, ipAddrArgv, parseIpAddrJson, type CommandResult } from '../../../src/vip/iproute2.js';
import { VipError, type Vip } from '../../../src/vip/types.js';
import { validateVip, vipKey } from '../../../src/vip/vip-spec.js';

const VIP4: Vip = { address: '203.0.113.10', prefix: 24, dev: 'eth0', label: 'eth0:0' };
const VIP6: Vip = { address: '2001:db8::10', prefix: 64, dev: 'eth0' };

/** Records argv and answers from a queue. */
function fakeRunner(answers: CommandResult[]) {
  const calls: string[][] = [];
  const runner = (argv: readonly string[]): Promise<CommandResult> => {
    calls.push([...argv]);
    return Promise.resolve(answers.shift() ?? { code: 0, stdout: '', stderr: '' });
  };
  return { calls, runner };
}

describe('validateVip', () => {
  it('accepts IPv4 with a dev-prefixed label and IPv6 without one', () => {
    expect(validateVip(VIP4)).toBe(VIP4);
    expect(validateVip(VIP6)).toBe(VIP6);
  });

  it.each([
    [{ address: '203.0.113.300', prefix: 24, dev: 'eth0' }, /not an IP address/],
    [{ address: '203.0.113.10', prefix: 33, dev: 'eth0' }, /prefix must be an integer 0..32/],
    [{ address: '2001:db8::1', prefix: 129, dev: 'eth0' }, /0..128/],
    [{ address: '203.0.113.10', prefix: 24, dev: 'eth0/x' }, /not an interface name/],
    [{ address: '203.0.113.10', prefix: 24, dev: 'a-very-long-interface' }, /not an interface name/],
    [{ address: '203.0.113.10', prefix: 24, dev: 'eth0', label: 'eth1:0' }, /must start with the device name eth0/],
    [{ address: '203.0.113.10', prefix: 24, dev: 'eth0', label: 'eth0:0123456789ab' }, /longer than 15/],
    [{ address: '2001:db8::1', prefix: 64, dev: 'eth0', label: 'eth0:1' }, /IPv4 only/],
  ])('rejects %j', (vip, pattern) => {
    expect(() => validateVip(vip as Vip)).toThrow(pattern);
  });

  it('keys VIPs by device, address and prefix, ignoring the label and address case', () => {
    expect(vipKey({ ...VIP6, address: '2001:DB8::10' })).toBe(vipKey(VIP6));
    expect(vipKey({ ...VIP4, label: undefined })).toBe(vipKey(VIP4));
  });
});

describe('iproute2 argv and output parsing', () => {
  it('builds argv arrays: label for IPv4, nodad for IPv6 adds', () => {
    expect(ipAddrArgv('ip', 'add', VIP4)).toEqual(['ip', '-4', 'addr', 'add', '203.0.113.10/24', 'dev', 'eth0', 'label', 'eth0:0']);
    expect(ipAddrArgv('ip', 'del', VIP4)).toEqual(['ip', '-4', 'addr', 'del', '203.0.113.10/24', 'dev', 'eth0']);
    expect(ipAddrArgv('/sbin/ip', 'add', VIP6)).toEqual(['/sbin/ip', '-6', 'addr', 'add', '2001:db8::10/64', 'dev', 'eth0', 'nodad']);
  });

  it('classifies both kernel extack messages and the older RTNETLINK lines', () => {
    expect(classifyIpFailure('Error: ipv4: Address already assigned.')).toBe('exists');
    expect(classifyIpFailure('RTNETLINK answers: File exists')).toBe('exists');
    expect(classifyIpFailure('Error: ipv6: address not found.')).toBe('absent');
    expect(classifyIpFailure('RTNETLINK answers: Cannot assign requested address')).toBe('absent');
    expect(classifyIpFailure('Cannot find device "eth9"')).toBe('no-device');
    expect(classifyIpFailure('RTNETLINK answers: Operation not permitted')).toBe('other');
  });

  it('parses `ip -j addr show` output, keeping IPv4 labels that differ from the device name', () => {
    const out = JSON.stringify([
      {
        ifindex: 3,
        ifname: 'eth0',
        addr_info: [
          { family: 'inet', local: '192.0.2.1', prefixlen: 24, label: 'eth0' },
          { family: 'inet', local: '203.0.113.10', prefixlen: 24, label: 'eth0:0' },
          { family: 'inet6', local: '2001:db8::10', prefixlen: 64 },
          { family: 'inet6', prefixlen: 64 },
        ],
      },
      { ifindex: 4, ifname: 'eth1', addr_info: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24 }] },
    ]);
    expect(parseIpAddrJson(out, 'eth0')).toEqual([
      { address: '192.0.2.1', prefix: 24, dev: 'eth0' },
      { address: '203.0.113.10', prefix: 24, dev: 'eth0', label: 'eth0:0' },
      { address: '2001:db8::10', prefix: 64, dev: 'eth0' },
    ]);
    expect(parseIpAddrJson('', 'eth0')).toEqual([]);
    expect(() => parseIpAddrJson('{"not":"array"}', 'eth0')).toThrow(/JSON array/);
  });
});

describe('createIproute2VipManager', () => {
  it('treats add of an existing address and removal of a missing one as success', async () => {
    const { calls, runner } = fakeRunner([
      { code: 2, stdout: '', stderr: 'Error: ipv4: Address already assigned.' },
      { code: 2, stdout: '', stderr: 'Error: ipv4: Address not found.' },
    ]);
    const m = createIproute2VipManager({ runner });
    await m.add(VIP4);
    await m.remove(VIP4);
    expect(calls.map((c) => c[3])).toEqual(['add', 'del']);
  });

  it('names the VIP and device in other failures and carries an errno-like code', async () => {
    const { runner } = fakeRunner([
      { code: 1, stdout: '', stderr: 'Cannot find device "eth0"' },
      { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' },
      { code: 2, stdout: '', stderr: 'Error: ipv4: Address not found.' },
    ]);
    const m = createIproute2VipManager({ runner });
    const e1 = await m.add(VIP4).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(VipError);
    expect((e1 as VipError).message).toMatch(/^add 203\.0\.113\.10\/24 on eth0 \(label eth0:0\): .*Cannot find device/);
    expect((e1 as VipError).code).toBe('ENODEV');
    const e2 = await m.remove(VIP6).catch((e: unknown) => e);
    expect((e2 as VipError).message).toMatch(/^remove 2001:db8::10\/64 on eth0: .*Operation not permitted/);
    // "not found" on ADD is not idempotence, it is a real failure.
    await expect(m.add(VIP4)).rejects.toThrow(/Address not found/);
  });

  it('rejects an invalid VIP before running anything', async () => {
    const { calls, runner } = fakeRunner([]);
    const m = createIproute2VipManager({ runner });
    await expect(m.add({ address: 'nope', prefix: 24, dev: 'eth0' })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(calls).toEqual([]);
  });

  it('lists through `ip -j addr show dev X` and reports unparseable output', async () => {
    const { calls, runner } = fakeRunner([
      { code: 0, stdout: JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '203.0.113.10', prefixlen: 24, label: 'eth0:0' }] }]), stderr: '' },
      { code: 0, stdout: 'garbage', stderr: '' },
      { code: 1, stdout: '', stderr: 'Device "eth0" does not exist.' },
    ]);
    const m = createIproute2VipManager({ runner });
    expect(await m.list('eth0')).toEqual([VIP4]);
    expect(calls[0]).toEqual(['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
    await expect(m.list('eth0')).rejects.toMatchObject({ code: 'EPROTO' });
    await expect(m.list('eth0')).rejects.toMatchObject({ code: 'ENODEV' });
  });
});
