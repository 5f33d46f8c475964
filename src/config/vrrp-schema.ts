/** VRRP instances and sync groups (keepalived's vrrp_instance / vrrp_sync_group). */
import { z } from 'zod';
import { address, argv, bool, cidr, duration, ifname, int, name, oneOf, port, ruleIssue, runAs, text } from './fields.js';

const vipObject = z.strictObject({
  address: cidr(),
  dev: ifname().optional(),
  label: text('an address label such as eth0:vip').max(15, { error: 'labels are at most 15 characters' }).optional(),
});
/** `203.0.113.10/24` or `{ address: 203.0.113.10/24, dev: eth1, label: eth1:vip }`. */
const virtualIp = z.preprocess((v) => (typeof v === 'string' ? { address: v } : v), vipObject);

// keepalived accepts track weights in -253..253; `reverse` flips the sense (its `weight N reverse`).
const trackWeight = () => int(-253, 253).default(0);
const trackInterface = z.strictObject({ name: ifname(), weight: trackWeight(), reverse: bool().default(false) });
const trackCheck = z.strictObject({
  virtual_server: name(),
  real_server: text('a real server endpoint').optional(),
  weight: trackWeight(),
  reverse: bool().default(false),
});
const trackScript = z
  .strictObject({
    name: name(),
    command: argv(),
    interval: duration({ min: 100, max: 3_600_000 }).default(2000),
    timeout: duration({ min: 1, max: 3_600_000 }).default(1000),
    rise: int(1, 1000).default(1),
    fall: int(1, 1000).default(1),
    weight: trackWeight(),
    reverse: bool().default(false),
    user: runAs().optional(),
  })
  .superRefine((s, ctx) => {
    if (s.timeout >= s.interval) ruleIssue(ctx, ['timeout'], `timeout (${s.timeout}ms) must be shorter than interval (${s.interval}ms)`);
  });

const track = z
  .strictObject({
    interfaces: z.array(trackInterface).default([]),
    checks: z.array(trackCheck).default([]),
    scripts: z.array(trackScript).default([]),
  })
  .prefault({});

const auth = z
  .strictObject({
    type: oneOf(['none', 'pass', 'hmac'] as const).default('none'),
    secret: text('a secret').optional(),
  })
  .prefault({});

const garp = z
  .strictObject({
    delay: duration({ max: 3_600_000 }).default(0),
    repeat: int(0, 100).default(5),
    interval: duration({ max: 10_000 }).default(10),
    refresh: duration().default(0),
  })
  .prefault({});

const lvsSync = z.strictObject({
  interface: ifname(),
  sync_id: int(0, 255),
  // On leaving MASTER, send the connection table to the backup daemons at once (conn-handover.ts).
  handover: bool().default(true),
  // Drop the TCP resets this director would send from its VIPs while BACKUP/FAULT and this long after becoming
  // MASTER, so clients of the old master retransmit until the hand-over lands (src/vrrp/reset-guard.ts). 0 = off.
  reset_grace: duration({ max: 60_000 }).default(3000),
});

const instanceInput = z.strictObject({
  name: name(),
  interface: ifname(),
  virtual_router_id: int(1, 255),
  priority: int(1, 255).default(100),
  advert_interval: duration().default(1000),
  version: z.union([z.literal(2), z.literal(3)], { error: 'version must be 3 or 2' }).default(3),
  preempt: bool().default(true),
  preempt_delay: duration({ max: 3_600_000 }).default(0),
  // keepalived's default too: an LVS director must receive its VIPs' traffic for IPVS (see startup-policy.ts).
  accept: bool().default(true),
  state_hint: oneOf(['MASTER', 'BACKUP'] as const).optional(),
  virtual_ips: z.array(virtualIp).min(1, { error: 'list at least one virtual IP' }),
  unicast_source: address().optional(),
  unicast_peers: z.array(address()).default([]),
  transport: oneOf(['vrrp', 'udp'] as const).default('vrrp'),
  udp_port: port().optional(),
  track,
  auth,
  garp,
  lvs_sync: lvsSync.optional(),
  notify: argv().optional(),
  // A sibling key rather than a mapping form of notify, so that notify stays the argv list keepalived users know.
  notify_user: runAs().optional(),
});

type InstanceInput = z.output<typeof instanceInput>;

/** Rules within one instance; rules across instances live in cross-check.ts. */
function checkInstance(i: InstanceInput, ctx: z.RefinementCtx): void {
  const report = (path: (string | number)[], message: string): void => ruleIssue(ctx, path, message);
  const family = i.virtual_ips[0]?.address.family ?? 4;
  i.virtual_ips.forEach((v, n) => {
    if (v.address.family !== family) report(['virtual_ips', n], `all virtual IPs of one instance must be the same family (virtual_ips[0] is IPv${family})`);
    const first = i.virtual_ips.findIndex((o) => o.address.address === v.address.address);
    if (first !== n) report(['virtual_ips', n], `${v.address.address} is listed twice (also virtual_ips[${first}])`);
  });
  if (i.version === 2 && family === 6) report(['version'], 'VRRP version 2 is IPv4 only; use version 3 for IPv6');

  const ms = i.advert_interval;
  if (i.version === 3 && (ms < 10 || ms > 40_950 || ms % 10 !== 0)) {
    report(['advert_interval'], 'VRRPv3 advert_interval must be 10ms..40.95s in steps of 10ms (centiseconds)');
  }
  if (i.version === 2 && (ms < 1000 || ms > 255_000 || ms % 1000 !== 0)) {
    report(['advert_interval'], 'VRRPv2 advert_interval must be whole seconds, 1s..255s');
  }

  if (i.auth.type !== 'none' && i.auth.secret === undefined) report(['auth'], `auth type ${i.auth.type} needs a secret`);
  if (i.auth.type === 'none' && i.auth.secret !== undefined) report(['auth', 'secret'], 'secret is only used with auth type pass or hmac');
  if (i.auth.type === 'pass') {
    if (i.version !== 2) report(['auth', 'type'], 'auth type pass exists only in VRRP version 2 (RFC 3768); version 3 has no authentication');
    if (i.auth.secret !== undefined && Buffer.byteLength(i.auth.secret) > 8) report(['auth', 'secret'], 'a VRRPv2 password is at most 8 bytes');
  }

  const peerFamily = (a: { family: number }): boolean => a.family === family;
  if (i.unicast_source && !peerFamily(i.unicast_source)) report(['unicast_source'], `unicast_source must be IPv${family} like the virtual IPs`);
  i.unicast_peers.forEach((p, n) => {
    if (!peerFamily(p)) report(['unicast_peers', n], `unicast peer must be IPv${family} like the virtual IPs`);
  });
  if (i.unicast_source && i.unicast_peers.length === 0) report(['unicast_source'], 'unicast_source needs unicast_peers');
  if (i.transport === 'udp' && i.unicast_peers.length === 0) report(['transport'], 'transport udp needs unicast_peers');
  if (i.transport !== 'udp' && i.udp_port !== undefined) report(['udp_port'], 'udp_port is only used with transport udp');
  if (i.notify_user !== undefined && i.notify === undefined) report(['notify_user'], 'notify_user is only used with notify');
  if (i.priority === 255 && i.state_hint === 'BACKUP') report(['state_hint'], 'priority 255 means address owner, which always starts as MASTER');

  const names = new Map<string, number>();
  i.track.scripts.forEach((s, n) => {
    const first = names.get(s.name);
    if (first !== undefined) report(['track', 'scripts', n, 'name'], `duplicate track script name "${s.name}" (also track.scripts[${first}])`);
    else names.set(s.name, n);
  });
  const ifaces = new Set<string>();
  i.track.interfaces.forEach((t, n) => {
    if (ifaces.has(t.name)) report(['track', 'interfaces', n, 'name'], `interface ${t.name} is tracked twice`);
    ifaces.add(t.name);
  });
}

export const vrrpInstanceSchema = instanceInput
  .superRefine(checkInstance)
  .transform((i) => ({ ...i, udp_port: i.udp_port ?? 1112 }));

export const syncGroupSchema = z.strictObject({
  name: name(),
  instances: z.array(name()).min(1, { error: 'list at least one instance' }),
});

export const vrrpSchema = z
  .strictObject({
    instances: z.array(vrrpInstanceSchema).default([]),
    sync_groups: z.array(syncGroupSchema).default([]),
  })
  .prefault({});
