/**
 * VipManager through rtnetlink (the `netlink` package): RTM_NEWADDR / RTM_DELADDR and an address
 * dump, no process spawned per change. The package is loaded on first use so a host where its
 * prebuilt binary cannot load still runs with the iproute2 manager.
 */
import type { RtNetlinkSocket } from 'netlink';

import { describeVip, VipError, type Vip, type VipManager } from './types.js';
import { ipBytes, ipText } from './ip-bytes.js';
import { validateVip, vipFamily } from './vip-spec.js';

const AF_INET = 2;
const AF_INET6 = 10;
// NLM_F_CREATE | NLM_F_EXCL: fail with EEXIST instead of silently replacing, so "already there" is visible.
const NLM_F_CREATE_EXCL = 0x400 | 0x200;
const RT_SCOPE_UNIVERSE = 0;

/** The package reports kernel errors as "Request rejected: EEXIST" (and drops the extack text). */
export function netlinkErrno(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  return /Request rejected: (E[A-Z0-9]+)/.exec(message)?.[1];
}

export interface NetlinkVipOptions {
  /** Per-request limit; a kernel that never answers becomes an error, not a hang. */
  timeoutMs?: number;
}

export async function createNetlinkVipManager(opts: NetlinkVipOptions = {}): Promise<VipManager> {
  const timeout = opts.timeoutMs ?? 5000;
  // Loaded here, not at the top, so the iproute2 manager keeps working when this native package cannot load.
  const { createRtNetlink } = await import('netlink');
  const socket: RtNetlinkSocket = createRtNetlink();
  let closed = false;

  const ifindexOf = async (ifname: string, operation: 'add' | 'remove' | 'list', target: string): Promise<number> => {
    try {
      const links = await socket.getLink({}, { ifname }, { timeout });
      const index = links[0]?.data.index;
      if (index === undefined) throw new Error('no link in the answer');
      return index;
    } catch (err) {
      const code = netlinkErrno(err);
      throw new VipError(operation, target, `interface ${ifname}: ${code === 'ENODEV' ? 'no such device' : (err as Error).message}`, code, err);
    }
  };

  const change = async (operation: 'add' | 'remove', vip: Vip): Promise<void> => {
    const target = describeVip(vip);
    if (closed) throw new VipError(operation, target, 'netlink VIP manager is closed', 'EBADF');
    try {
      validateVip(vip);
    } catch (err) {
      throw new VipError(operation, target, (err as Error).message, 'EINVAL', err);
    }
    const index = await ifindexOf(vip.dev, operation, target);
    const family = vipFamily(vip);
    const bytes = ipBytes(vip.address);
    const data = {
      family: family === 4 ? AF_INET : AF_INET6,
      prefixlen: vip.prefix,
      index,
      scope: RT_SCOPE_UNIVERSE,
      // IPv6 VIPs skip duplicate address detection: the address must answer at once after failover.
      flags: operation === 'add' && family === 6 ? { nodad: true as const } : {},
    };
    const attrs = { local: bytes, address: bytes, ...(operation === 'add' && vip.label !== undefined ? { label: vip.label } : {}) };
    try {
      if (operation === 'add') await socket.newAddress(data, attrs, { flags: NLM_F_CREATE_EXCL, timeout });
      else await socket.delAddress(data, attrs, { timeout });
    } catch (err) {
      const code = netlinkErrno(err);
      if (operation === 'add' && code === 'EEXIST') return; // idempotent
      if (operation === 'remove' && code === 'EADDRNOTAVAIL') return; // idempotent
      throw new VipError(operation, target, `RTM_${operation === 'add' ? 'NEWADDR' : 'DELADDR'} failed: ${(err as Error).message}`, code, err);
    }
  };

  return {
    kind: 'netlink',
    add: (vip) => change('add', vip),
    remove: (vip) => change('remove', vip),
    async list(ifname: string): Promise<Vip[]> {
      if (closed) throw new VipError('list', ifname, 'netlink VIP manager is closed', 'EBADF');
      const index = await ifindexOf(ifname, 'list', ifname);
      let messages;
      try {
        messages = await socket.getAddresses({ index }, {}, { timeout });
      } catch (err) {
        throw new VipError('list', ifname, `RTM_GETADDR dump failed: ${(err as Error).message}`, netlinkErrno(err), err);
      }
      const vips: Vip[] = [];
      // Without strict dump checking the kernel returns every interface's addresses: filter here.
      for (const m of messages) {
        if (m.data.index !== index || m.data.prefixlen === undefined) continue;
        const raw = m.attrs.local ?? m.attrs.address;
        if (raw === undefined || (raw.length !== 4 && raw.length !== 16)) continue;
        const vip: Vip = { address: ipText(raw), prefix: m.data.prefixlen, dev: ifname };
        if (raw.length === 4 && m.attrs.label !== undefined && m.attrs.label !== ifname) vip.label = m.attrs.label;
        vips.push(vip);
      }
      return vips;
    },
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        socket.socket.close();
      }
      return Promise.resolve();
    },
  };
}
