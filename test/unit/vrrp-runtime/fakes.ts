// Fakes for the runtime's adapters: a manual clock with timers, a transport that records what was sent and lets
// the test deliver packets, a VIP manager and an announcer that log every call in order.
import { EventBus } from '../../../src/events/bus.js';
import type { LvsEvent } from '../../../src/events/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { AnnouncementSender } from '../../../src/vip/announce.js';
import type { Vip, VipManager } from '../../../src/vip/types.js';
import { encodeAdvert, type AdvertFields } from '../../../src/vrrp/codec.js';
import { emptyStats, type PacketListener, type ReceivedVrrpPacket, type TransportStats, type VrrpTransport } from '../../../src/vrrp/transport/types.js';
import type { RuntimeTimers } from '../../../src/vrrp/runtime/timers.js';
import type { LinkEventSource } from '../../../src/vrrp/runtime/link-events.js';
import type { AcceptFilter } from '../../../src/vrrp/runtime/accept-filter.js';
import type { DroppedVips } from '../../../src/vrrp/accept-mode.js';
import type { LinkNotice } from '../../../src/vrrp/runtime/link-notice.js';
import type { Stoppable } from '../../../src/vrrp/runtime/track-sources.js';

/** Records what the accept-mode controller asks the kernel to drop (never runs nft). */
export class FakeAcceptFilter implements AcceptFilter {
  readonly applied: DroppedVips[] = [];
  fail: Error | undefined;
  /** Applies that were rejected with `fail`. */
  failures = 0;
  apply(dropped: DroppedVips): Promise<void> {
    if (this.fail) {
      this.failures++;
      return Promise.reject(this.fail);
    }
    this.applied.push(dropped);
    return Promise.resolve();
  }
  last(): string[] {
    const d = this.applied.at(-1);
    return d ? [...d.v4, ...d.v6] : [];
  }
}

/** Link notifications the test sends by hand. */
export class FakeLinkEvents implements LinkEventSource {
  private readonly subs = new Set<{ onNotice: (n: LinkNotice) => void; onLost: (why: string) => void }>();
  closed = false;
  subscribe(onNotice: (n: LinkNotice) => void, onLost: (why: string) => void): Stoppable {
    const s = { onNotice, onLost };
    this.subs.add(s);
    return { stop: () => void this.subs.delete(s) };
  }
  notify(ifname: string, operstate: string): void {
    for (const s of [...this.subs]) s.onNotice({ ifname, operstate });
  }
  lose(why = 'ENOBUFS'): void {
    for (const s of [...this.subs]) s.onLost(why);
  }
  subscribers(): number {
    return this.subs.size;
  }
  close(): void {
    this.closed = true;
    this.subs.clear();
  }
}

export class ManualTimers implements RuntimeTimers {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  /** Added to every expiry, to simulate a late event loop. */
  lateByMs = 0;

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Run every timer due within `ms`, in deadline order, flushing promises between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      await flush(); // queued I/O may still arm timers that are due now
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (!next || e[1].at < next[1].at) next = e;
      if (!next || next[1].at + this.lateByMs > end) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at + this.lateByMs);
      next[1].fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
  count(): number {
    return this.pending.size;
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export class FakeTransport implements VrrpTransport {
  readonly kind = 'raw' as const;
  readonly sent: { bytes: Uint8Array; dest: string | undefined }[] = [];
  private listeners: PacketListener[] = [];
  closed = false;
  failSends = false;

  send(bytes: Uint8Array, dest?: string): Promise<void> {
    if (this.failSends) return Promise.reject(new Error(`send to ${dest ?? '?'}: ENETDOWN`));
    this.sent.push({ bytes: Uint8Array.from(bytes), dest });
    return Promise.resolve();
  }
  onPacket(listener: PacketListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
  stats(): TransportStats {
    return emptyStats();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  deliver(p: ReceivedVrrpPacket): void {
    for (const l of this.listeners) l(p);
  }
  /** Deliver an advert as a peer at `src` would send it to the IPv4 group. */
  deliverAdvert(fields: AdvertFields, src: string, opts: { ttl?: number; dst?: string } = {}): void {
    const dst = opts.dst ?? '224.0.0.18';
    const bytes = Buffer.from(encodeAdvert(fields, { family: 4, src, dst }));
    this.deliver({ bytes, src, dst, ttlOrHopLimit: opts.ttl ?? 255, ifindex: 2 });
  }
}

export class FakeVips implements VipManager {
  readonly kind = 'netlink' as const;
  readonly log: string[] = [];
  readonly present = new Set<string>();
  failAdd = false;
  addresses: Vip[] = [{ address: '192.0.2.1', prefix: 24, dev: 'eth0' }];

  add(vip: Vip): Promise<void> {
    this.log.push(`add ${vip.address}`);
    if (this.failAdd) return Promise.reject(new Error('EPERM'));
    this.present.add(vip.address);
    return Promise.resolve();
  }
  remove(vip: Vip): Promise<void> {
    this.log.push(`remove ${vip.address}`);
    this.present.delete(vip.address);
    return Promise.resolve();
  }
  list(): Promise<Vip[]> {
    return Promise.resolve([...this.addresses, ...[...this.present].map((a) => ({ address: a, prefix: 24, dev: 'eth0' }))]);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class FakeAnnouncer implements AnnouncementSender {
  readonly kind = 'native' as const;
  readonly sent: string[] = [];
  sendOnce(vip: Vip): Promise<void> {
    this.sent.push(vip.address);
    return Promise.resolve();
  }
}

export function recordingBus(): { bus: EventBus<LvsEvent>; events: LvsEvent[] } {
  const bus = new EventBus<LvsEvent>();
  const events: LvsEvent[] = [];
  bus.on((e) => {
    events.push(e);
  });
  return { bus, events };
}

export const logger = silentLogger();

/** Everything createVrrpManager needs, faked, with the given interfaces up. */
export function managerFixture(interfaces: readonly string[] = ['eth0']) {
  const timers = new ManualTimers();
  const vips = new FakeVips();
  const transports: FakeTransport[] = [];
  const operstate = new Map<string, string>(interfaces.map((i) => [i, 'up']));
  const { bus, events } = recordingBus();
  const acceptFilter = new FakeAcceptFilter();
  const deps = {
    logger,
    bus,
    timers,
    vipManager: vips,
    announcer: new FakeAnnouncer(),
    transportFactory: () => {
      const t = new FakeTransport();
      transports.push(t);
      return Promise.resolve(t);
    },
    readOperstate: (n: string) => Promise.resolve(operstate.get(n)),
    // Polled link state unless a test brings FakeLinkEvents: the real default opens an rtnetlink socket.
    linkEvents: null,
    acceptFilter,
    // The real default reads /proc/net/ip_vs_conn and multicasts; tests that look at hand-overs bring a fake.
    connPusher: null,
    // Never the real one: it would run tc on the host's own interfaces.
    resetGuard: null,
  };
  return { timers, vips, transports, operstate, events, deps, acceptFilter };
}

/** Masters hand over on stop and wait for the step-down hold: run the clock meanwhile. */
export async function stopManager(m: { stop(): Promise<unknown> }, timers: ManualTimers): Promise<void> {
  const stopping = m.stop();
  await timers.advance(5000);
  await stopping;
}
