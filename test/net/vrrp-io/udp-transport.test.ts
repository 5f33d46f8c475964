// The UDP transport (lvskeep-to-lvskeep) between two namespaces: unicast and multicast round trips.
// TTL and ingress interface are invisible to node:dgram, so they must come back as null, not guessed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { TRANSPORT_AGENT, receiverEvents, runAgent, startReceiver } from './agent-runner.js';

const ADVERT = '3101640100640000c000020a';
const common = { kind: 'udp', interface: 'eth0', payloadHex: ADVERT, timeoutMs: 20_000 };

requireRoot('net/vrrp-io/udp-transport')('udp VRRP transport between two namespaces', () => {
  let topo: Topology;

  beforeAll(async () => {
    topo = new Topology();
    await topo.namespace('a');
    await topo.namespace('b');
    await topo.link({ ns: 'a', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, { ns: 'b', ifname: 'eth0', addresses: ['192.0.2.2/24'] });
    await topo.exec('a', ['ip', 'addr', 'add', 'fe80::1/64', 'dev', 'eth0', 'nodad']);
    await topo.exec('b', ['ip', 'addr', 'add', 'fe80::2/64', 'dev', 'eth0', 'nodad']);
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('unicast on the default port 1112, both directions', async () => {
    const rxB = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', peers: ['192.0.2.1'], count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.1', peers: ['192.0.2.2'], count: 1 });
    expect((await receiverEvents(rxB)).filter((e) => e.event === 'packet')).toEqual([
      { event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '192.0.2.2', ttl: null, ifindex: null },
    ]);
    const rxA = await startReceiver(topo, 'a', { ...common, role: 'recv', family: 4, source: '192.0.2.1', peers: ['192.0.2.2'], count: 1 });
    await runAgent(topo, 'b', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.2', peers: ['192.0.2.1'], count: 1 });
    expect((await receiverEvents(rxA)).filter((e) => e.event === 'packet')).toMatchObject([{ hex: ADVERT, src: '192.0.2.2' }]);
  });

  it('IPv4 multicast to 224.0.0.18 on a configured port', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', udpPort: 11120, count: 2 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.1', udpPort: 11120, count: 2 });
    expect((await receiverEvents(rx)).filter((e) => e.event === 'packet')).toEqual([
      { event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '224.0.0.18', ttl: null, ifindex: null },
      { event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '224.0.0.18', ttl: null, ifindex: null },
    ]);
  });

  it('IPv6 multicast to ff02::12 from a link-local source', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 6, source: 'fe80::2', count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 6, source: 'fe80::1', count: 1 });
    expect((await receiverEvents(rx)).filter((e) => e.event === 'packet')).toEqual([{ event: 'packet', hex: ADVERT, src: 'fe80::1', dst: 'ff02::12', ttl: null, ifindex: null }]);
  });

  it('fails to open with an error naming the transport when the source is not local', async () => {
    const r = await topo.exec('a', [process.execPath, '--import', 'tsx', TRANSPORT_AGENT, JSON.stringify({ ...common, role: 'send', family: 4, source: '192.0.2.99', count: 1 })], {
      check: false,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/udp VRRP transport on eth0 \(IPv4, source 192\.0\.2\.99, port 1112\): bind 192\.0\.2\.99:0: .*EADDRNOTAVAIL/);
  });
});
