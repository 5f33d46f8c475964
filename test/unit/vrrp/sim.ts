// A tiny discrete-event world for state-machine tests: routers on one link, a fake clock, timers as deadlines,
// adverts delivered instantly to every other connected router. It plays the adapter's role faithfully enough
// to check who holds the VIPs at every instant.
import { initialState, step, type TimerName, type VrrpAction, type VrrpEvent, type VrrpInstanceConfig, type VrrpInstanceState } from '../../../src/vrrp/state-machine.js';

export interface Router {
  name: string;
  address: string;
  state: VrrpInstanceState;
  holdsVips: boolean;
  connected: boolean;
  timers: Map<TimerName, number>;
  sent: { at: number; priority: number }[];
  log: VrrpAction[];
}

export class Sim {
  now = 0;
  routers: Router[] = [];
  /** [time, names holding VIPs] after every change. */
  vipHistory: { at: number; holders: string[] }[] = [];

  add(config: VrrpInstanceConfig): Router {
    const r: Router = { name: config.name, address: config.primaryAddress, state: initialState(config, this.now), holdsVips: false, connected: true, timers: new Map(), sent: [], log: [] };
    this.routers.push(r);
    return r;
  }

  get(name: string): Router {
    const r = this.routers.find((x) => x.name === name);
    if (!r) throw new Error(`no router ${name}`);
    return r;
  }

  event(r: Router, ev: VrrpEvent): void {
    const res = step(r.state, ev, this.now);
    r.state = res.state;
    for (const a of res.actions) this.apply(r, a);
  }

  private apply(r: Router, a: VrrpAction): void {
    r.log.push(a);
    switch (a.type) {
      case 'send-advert':
        r.sent.push({ at: this.now, priority: a.priority });
        if (!r.connected) return;
        for (const peer of this.routers) {
          if (peer !== r && peer.connected) {
            this.event(peer, { type: 'advert-received', priority: a.priority, maxAdvertIntervalCs: r.state.config.intervalCs, src: r.address });
          }
        }
        return;
      case 'set-timer':
        r.timers.set(a.timer, a.at);
        return;
      case 'cancel-timer':
        r.timers.delete(a.timer);
        return;
      case 'become-master':
        this.setVips(r, true);
        return;
      case 'become-backup':
      case 'become-fault':
      case 'become-initialize':
        if (a.releaseVips) this.setVips(r, false);
        return;
      case 'release-vips':
        this.setVips(r, false);
        return;
      default:
        return;
    }
  }

  private setVips(r: Router, on: boolean): void {
    if (r.holdsVips === on) return;
    r.holdsVips = on;
    this.vipHistory.push({ at: this.now, holders: this.routers.filter((x) => x.holdsVips).map((x) => x.name) });
  }

  /** Run timers in deadline order until `until` (bounded in steps). */
  runUntil(until: number, maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      let next: { r: Router; t: TimerName; at: number } | undefined;
      for (const r of this.routers) for (const [t, at] of r.timers) if (!next || at < next.at) next = { r, t, at };
      if (!next || next.at > until) break;
      this.now = next.at;
      next.r.timers.delete(next.t);
      const ev: VrrpEvent =
        next.t === 'advert' ? { type: 'advert-timer-fired' } : next.t === 'master-down' ? { type: 'master-down-timer-fired' } : { type: 'step-down-timer-fired' };
      this.event(next.r, ev);
    }
    this.now = Math.max(this.now, until);
  }

  masters(): string[] {
    return this.routers.filter((r) => r.state.state === 'Master').map((r) => r.name);
  }

  holders(): string[] {
    return this.routers.filter((r) => r.holdsVips).map((r) => r.name);
  }
}

export function config(name: string, primaryAddress: string, priority: number, extra: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig {
  return {
    name,
    version: 3,
    family: primaryAddress.includes(':') ? 6 : 4,
    vrid: 51,
    priority,
    intervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    acceptMode: false,
    primaryAddress,
    vips: primaryAddress.includes(':') ? ['2001:db8::100'] : ['192.0.2.100'],
    ...extra,
  };
}
