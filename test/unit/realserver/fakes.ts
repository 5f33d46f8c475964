// In-memory stand-ins for the real-server adapters: sysctls in a Map (with injectable failures), a VIP
// manager holding addresses per device, and links with up/down flags. Each records what was done.
import type { Vip, VipManager } from '../../../src/vip/types.js';
import { VipError } from '../../../src/vip/types.js';
import type { LinkControl, LinkInfo } from '../../../src/realserver/links.js';
import { SysctlError, type SysctlIo } from '../../../src/realserver/sysctl.js';

export class FakeSysctls implements SysctlIo {
  readonly values = new Map<string, string>();
  readonly writes: string[] = [];
  /** key -> errno code thrown by checkWritable/write of that key. */
  readonly failWrite = new Map<string, string>();
  /** Fail the write only (checkWritable passes): a failure part-way. */
  readonly failWriteOnly = new Map<string, string>();

  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(initial)) this.values.set(k, v);
  }

  read(key: string): Promise<string> {
    const v = this.values.get(key);
    if (v === undefined) return Promise.reject(new SysctlError(key, 'read', 'ENOENT', `sysctl ${key} missing`));
    return Promise.resolve(v);
  }

  checkWritable(key: string): Promise<void> {
    const code = this.failWrite.get(key) ?? (this.values.has(key) ? undefined : 'ENOENT');
    return code ? Promise.reject(new SysctlError(key, 'write', code, `cannot write ${key}: ${code}`)) : Promise.resolve();
  }

  async write(key: string, value: string): Promise<void> {
    await this.checkWritable(key);
    const code = this.failWriteOnly.get(key);
    if (code) throw new SysctlError(key, 'write', code, `write ${key} failed: ${code}`);
    this.values.set(key, value);
    this.writes.push(`${key}=${value}`);
  }
}

export class FakeVips implements VipManager {
  readonly kind = 'iproute2' as const;
  readonly byDev = new Map<string, Vip[]>();
  readonly calls: string[] = [];
  failAdd: string | undefined;

  constructor(devices: readonly string[] = ['lo', 'eth0']) {
    for (const d of devices) this.byDev.set(d, []);
  }

  add(vip: Vip): Promise<void> {
    this.calls.push(`add ${vip.address}/${vip.prefix} ${vip.dev} ${vip.label ?? '-'}`);
    if (this.failAdd === vip.address) return Promise.reject(new VipError('add', vip.address, 'refused by fake', 'EPERM'));
    const list = this.byDev.get(vip.dev);
    if (!list) return Promise.reject(new VipError('add', vip.address, `no device ${vip.dev}`, 'ENODEV'));
    if (!list.some((v) => v.address === vip.address)) list.push({ ...vip });
    return Promise.resolve();
  }

  remove(vip: Vip): Promise<void> {
    this.calls.push(`remove ${vip.address}/${vip.prefix} ${vip.dev}`);
    const list = this.byDev.get(vip.dev) ?? [];
    this.byDev.set(
      vip.dev,
      list.filter((v) => v.address !== vip.address),
    );
    return Promise.resolve();
  }

  list(ifname: string): Promise<Vip[]> {
    const list = this.byDev.get(ifname);
    if (!list) return Promise.reject(new VipError('list', ifname, 'no such device', 'ENODEV'));
    return Promise.resolve(list.map((v) => ({ ...v })));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class FakeLinks implements LinkControl {
  readonly links = new Map<string, LinkInfo>();
  readonly calls: string[] = [];
  /** What ensureTunnel does when the device is missing: make it (as module loading would) or fail. */
  tunnelAvailable = true;

  constructor(up: readonly string[] = ['lo', 'eth0']) {
    for (const d of up) this.links.set(d, { exists: true, up: true });
  }

  info(dev: string): Promise<LinkInfo> {
    return Promise.resolve(this.links.get(dev) ?? { exists: false, up: false });
  }

  setUp(dev: string, up: boolean): Promise<void> {
    this.calls.push(`${dev} ${up ? 'up' : 'down'}`);
    const l = this.links.get(dev);
    if (!l) return Promise.reject(new Error(`device ${dev}: does not exist`));
    l.up = up;
    return Promise.resolve();
  }

  ensureTunnel(dev: string): Promise<'present' | 'loaded' | 'created'> {
    if (this.links.has(dev)) return Promise.resolve('present');
    if (!this.tunnelAvailable) return Promise.reject(new Error(`device ${dev} is missing and could not be made: ipip unavailable`));
    this.links.set(dev, { exists: true, up: false });
    this.calls.push(`load ipip (${dev} appears down)`);
    return Promise.resolve('loaded');
  }

  remove(dev: string): Promise<void> {
    this.calls.push(`delete ${dev}`);
    this.links.delete(dev);
    return Promise.resolve();
  }
}

/** Kernel defaults of the keys a real server touches, for devices lo, eth0 and (optionally) tunl0. */
export function defaultSysctls(devs: readonly string[] = ['all', 'default', 'lo', 'eth0', 'tunl0']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of devs) {
    out[`net.ipv4.conf.${d}.arp_ignore`] = '0';
    out[`net.ipv4.conf.${d}.arp_announce`] = '0';
    out[`net.ipv4.conf.${d}.rp_filter`] = '2';
    out[`net.ipv4.conf.${d}.send_redirects`] = '1';
  }
  out['net.ipv4.ip_forward'] = '0';
  out['net.ipv6.conf.all.forwarding'] = '0';
  return out;
}
