/**
 * Metrics from the daemon's event stream: VRRP transitions, real-server state changes, IPVS drift and errors,
 * config reloads. `applyEvent` is the whole mapping (synchronous, O(1), never throws on odd input);
 * `subscribeMetrics` is the adapter onto the bus. Gauges that live components can report directly (VRRP and
 * real-server state, queue lengths) are also refreshed at scrape time by collectors.ts, which then wins.
 */
import type { LvsEvent } from '../events/types.js';
import { REAL_SERVER_STATES, VRRP_STATES, vrrpStateLabel, type RealServerStateLabel } from './labels.js';
import type { Metrics } from './registry.js';
import { setStateSet } from './series.js';

/** The one bus method this needs (src/events/bus.ts EventBus satisfies it). */
export interface EventSource {
  on(listener: (event: LvsEvent) => void): () => void;
}

/** Returns the function that unsubscribes. */
export function subscribeMetrics(bus: EventSource, metrics: Metrics): () => void {
  return bus.on((event) => applyEvent(metrics, event));
}

function setRealServer(m: Metrics, vs: string, rs: string, state: RealServerStateLabel, up?: boolean): void {
  // A scrape-time source overwrites these at every scrape; its collector keeps them only in step with itself.
  if (!m.realServers.eventDriven) return;
  const base = { virtual_server: vs, real_server: rs };
  setStateSet(m.realServers.state, base, REAL_SERVER_STATES, state);
  if (up !== undefined) m.realServers.up.set(base, up ? 1 : 0);
}

export function applyEvent(m: Metrics, e: LvsEvent): void {
  switch (e.type) {
    case 'vrrp.state': {
      const from = vrrpStateLabel(e.from);
      const to = vrrpStateLabel(e.to);
      if (!from || !to) return;
      m.vrrp.transitions.inc({ instance: e.instance, from, to });
      setStateSet(m.vrrp.state, { instance: e.instance }, VRRP_STATES, to);
      if (Number.isFinite(e.priority)) m.vrrp.effectivePriority.set({ instance: e.instance }, e.priority);
      return;
    }
    case 'rs.down':
      return setRealServer(m, e.virtualServer, e.realServer, 'down', false);
    case 'rs.up':
      // rs.up is also sent for down -> slow-start; the scrape-time pool snapshot tells the two apart.
      return setRealServer(m, e.virtualServer, e.realServer, 'up', true);
    case 'rs.flapping':
      return setRealServer(m, e.virtualServer, e.realServer, 'flapping', false);
    case 'rs.drained':
      return setRealServer(m, e.virtualServer, e.realServer, 'drained');
    case 'rs.maintenance':
      // Leaving maintenance goes to up, slow-start or down; the event does not say which.
      return setRealServer(m, e.virtualServer, e.realServer, e.on ? 'maintenance' : 'unknown');
    case 'ipvs.drift_repaired':
      m.ipvs.driftRepairs.inc();
      return;
    case 'ipvs.error':
      m.ipvs.errors.inc();
      return;
    case 'daemon.reloaded':
      m.daemon.configReloads.inc({ result: 'success' });
      return;
    case 'daemon.reload_failed':
      m.daemon.configReloads.inc({ result: 'failure' });
      return;
    default:
      // The other events are alerting news without a metric of their own (quorum, sorry, panic and delivery
      // health show in the real-server and alert series).
      return;
  }
}
