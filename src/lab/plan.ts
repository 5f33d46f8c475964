// The lab's addresses, names and per-director configurations: pure, so the generated configs are unit-tested.
// d1's configuration is config/lab.yaml as shipped; d2's and the DR variants are derived from that text.
import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';

export type LabMode = 'nat' | 'dr';
export type DirectorName = 'd1' | 'd2';
export type WebName = 'web1' | 'web2' | 'web3';

export const VIP = '203.0.113.10';
export const GATEWAY_VIP = '198.51.100.1';
export const CLIENT = '203.0.113.50';
export const ALERT_PORT = 9000;
/** A plain router between the real servers and the client, used in DR mode (replies bypass the directors). */
export const ROUTER = { ext: '203.0.113.254', int: '198.51.100.254' } as const;
export const DIRECTORS: Record<DirectorName, { ext: string; int: string; priority: number }> = {
  d1: { ext: '203.0.113.2', int: '198.51.100.2', priority: 150 },
  d2: { ext: '203.0.113.3', int: '198.51.100.3', priority: 100 },
};
export const WEBS: Record<WebName, string> = { web1: '198.51.100.11', web2: '198.51.100.12', web3: '198.51.100.13' };
export const WEB_NAMES = Object.keys(WEBS) as WebName[];
export const SERVICE = `${VIP}:80`;
export const STATE_ROOT = '/run/lvskeep-lab';

export function otherDirector(d: DirectorName): DirectorName {
  return d === 'd1' ? 'd2' : 'd1';
}

export function controlSocket(d: DirectorName): string {
  return `${STATE_ROOT}/${d}/lvskeep.sock`;
}

/** What a base config must contain for the lab to drive it; checked so a hand-edited lab.yaml fails by name. */
function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`lab config: ${what} is missing`);
  return value;
}

function mapAt(doc: Document, path: (string | number)[]): YAMLMap {
  const node = doc.getIn(path, true);
  if (!isMap(node)) throw new Error(`lab config: ${path.join('.')} must be a mapping`);
  return node;
}

export interface DirectorConfigOptions {
  director: DirectorName;
  mode: LabMode;
  /** Overrides of real-server weights by address (reload scenarios). */
  weights?: Readonly<Record<string, number>>;
}

/**
 * The YAML text of `director`'s config, derived from d1's (`baseText`, normally config/lab.yaml): router id,
 * state directory, control socket, priorities and unicast addresses follow the director; `dr` drops the
 * gateway VIP (or a gateway instance and its sync group) since DR replies do not pass the directors, and
 * switches forwarding.
 */
export function directorConfig(baseText: string, opts: DirectorConfigOptions): string {
  const doc = parseDocument(baseText);
  if (doc.errors.length > 0) throw new Error(`lab config: ${doc.errors[0]?.message ?? 'unreadable YAML'}`);
  const me = DIRECTORS[opts.director];
  const peer = DIRECTORS[otherDirector(opts.director)];
  // d1's own addresses become this director's; d1's peer (d2) becomes this director's peer.
  const swap = new Map<string, string>([
    [DIRECTORS.d1.ext, me.ext],
    [DIRECTORS.d1.int, me.int],
    [DIRECTORS.d2.ext, peer.ext],
    [DIRECTORS.d2.int, peer.int],
  ]);

  doc.setIn(['global', 'router_id'], `lab-${opts.director}`);
  doc.setIn(['global', 'state_dir'], `${STATE_ROOT}/${opts.director}`);
  doc.setIn(['control', 'socket'], controlSocket(opts.director));

  const instances = need(doc.getIn(['vrrp', 'instances'], true), 'vrrp.instances');
  if (!isSeq(instances)) throw new Error('lab config: vrrp.instances must be a list');
  for (let i = 0; i < instances.items.length; i++) {
    const inst = mapAt(doc, ['vrrp', 'instances', i]);
    inst.set('priority', me.priority);
    const source = inst.get('unicast_source');
    if (typeof source === 'string') inst.set('unicast_source', swap.get(source) ?? source);
    const peers = inst.get('unicast_peers', true);
    if (isSeq(peers)) {
      for (let j = 0; j < peers.items.length; j++) {
        const p = doc.getIn(['vrrp', 'instances', i, 'unicast_peers', j]);
        if (typeof p === 'string') doc.setIn(['vrrp', 'instances', i, 'unicast_peers', j], swap.get(p) ?? p);
      }
    }
  }

  if (opts.mode === 'dr') {
    // DR replies bypass the directors: no gateway VIP, whether it is a VIP of the main instance (config/lab.yaml)
    // or an instance of its own on eth1 in a sync group (a hand-edited base).
    const keep = instances.items.filter((_, i) => mapAt(doc, ['vrrp', 'instances', i]).get('interface') !== 'eth1');
    instances.items = keep;
    for (let i = 0; i < keep.length; i++) {
      const vips = doc.getIn(['vrrp', 'instances', i, 'virtual_ips'], true);
      if (!isSeq(vips)) continue;
      vips.items = vips.items.filter((item) => {
        const address = isMap(item) ? item.get('address') : (item as { value?: unknown }).value;
        return !(typeof address === 'string' && address.split('/')[0] === GATEWAY_VIP);
      });
    }
    if (doc.hasIn(['vrrp', 'sync_groups'])) doc.setIn(['vrrp', 'sync_groups'], doc.createNode([]));
  }

  const services = need(doc.getIn(['virtual_servers'], true), 'virtual_servers');
  if (!isSeq(services) || services.items.length === 0) throw new Error('lab config: virtual_servers must be a non-empty list');
  doc.setIn(['virtual_servers', 0, 'forwarding'], opts.mode);
  const reals = need(doc.getIn(['virtual_servers', 0, 'real_servers'], true), 'virtual_servers[0].real_servers');
  if (!isSeq(reals)) throw new Error('lab config: virtual_servers[0].real_servers must be a list');
  for (let j = 0; j < reals.items.length; j++) {
    const addr = doc.getIn(['virtual_servers', 0, 'real_servers', j, 'address']);
    const w = typeof addr === 'string' ? opts.weights?.[addr] : undefined;
    if (w !== undefined) doc.setIn(['virtual_servers', 0, 'real_servers', j, 'weight'], w);
  }
  return doc.toString();
}

/**
 * How long one client request may take before it counts as failed. Three seconds, as a patient client: long
 * enough for one TCP retransmission (the first comes after 1 s for a SYN, 200 ms and more for data), which is
 * how a client recovers from a packet a switchover dropped; the slowest successful request is reported too.
 */
export const PROBE_TIMEOUT_MS = 3_000;
