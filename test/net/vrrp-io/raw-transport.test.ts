// Two namespaces joined by a veth pair exchange proto-112 packets through the raw transport and the
// native addon; the receiver reports what recvmsg saw (payload, src, dst, TTL / hop limit, ifindex).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { TRANSPORT_AGENT, ifindexIn, receiverEvents, runAgent, startReceiver } from './agent-runner.js';

// A VRRPv3 advert for VRID 1, priority 100, one address 192.0.2.10 (checksum irrelevant to the transport).
const ADVERT = '3101640100640000c000020a';
const common = { kind: 'raw', interface: 'eth0', payloadHex: ADVERT, timeoutMs: 20_000 };

requireRoot('net/vrrp-io/raw-transport')('raw VRRP transport between two namespaces', () => {
  let topo: Topology;
  let ifindexB: number;

  beforeAll(async () => {
    topo = new Topology();
    await topo.namespace('a');
    await topo.namespace('b');
    await topo.link({ ns: 'a', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, { ns: 'b', ifname: 'eth0', addresses: ['192.0.2.2/24'] });
    // Fixed link-local addresses without DAD, so IPv6 sockets can bind at once.
    await topo.exec('a', ['ip', 'addr', 'add', 'fe80::1/64', 'dev', 'eth0', 'nodad']);
    await topo.exec('b', ['ip', 'addr', 'add', 'fe80::2/64', 'dev', 'eth0', 'nodad']);
    ifindexB = await ifindexIn(topo, 'b', 'eth0');
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('IPv4 multicast: the receiver sees the payload, src, 224.0.0.18, TTL 255 and its ifindex', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', count: 2 });
    const tx = await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.1', count: 2 });
    expect(tx.at(-1)).toMatchObject({ event: 'sent', count: 2, stats: { sent: 2, sendErrors: 0 } });
    const events = await receiverEvents(rx);
    const packets = events.filter((e) => e.event === 'packet');
    expect(packets).toEqual([
      { event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '224.0.0.18', ttl: 255, ifindex: ifindexB },
      { event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '224.0.0.18', ttl: 255, ifindex: ifindexB },
    ]);
  });

  it('reports the TTL actually received: a plain socket sending with TTL 64 shows 64', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send-plain', family: 4, source: '192.0.2.1', dest: '224.0.0.18', ttl: 64, count: 1 });
    const packets = (await receiverEvents(rx)).filter((e) => e.event === 'packet');
    expect(packets).toEqual([{ event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '224.0.0.18', ttl: 64, ifindex: ifindexB }]);
  });

  it('IPv6 multicast from a link-local source: ff02::12, hop limit 255', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 6, source: 'fe80::2', count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 6, source: 'fe80::1', count: 1 });
    const packets = (await receiverEvents(rx)).filter((e) => e.event === 'packet');
    expect(packets).toEqual([{ event: 'packet', hex: ADVERT, src: 'fe80::1', dst: 'ff02::12', ttl: 255, ifindex: ifindexB }]);
  });

  it('IPv6 hop limit is reported as received (64 from a plain socket)', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 6, source: 'fe80::2', count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send-plain', family: 6, source: 'fe80::1', dest: 'ff02::12', ttl: 64, count: 1 });
    const packets = (await receiverEvents(rx)).filter((e) => e.event === 'packet');
    expect(packets).toMatchObject([{ dst: 'ff02::12', ttl: 64, ifindex: ifindexB }]);
  });

  it('IPv4 unicast between peers: dst is the peer address; packets from non-peers are dropped and counted', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', peers: ['192.0.2.1'], count: 1 });
    // 192.0.2.3 is not a configured peer of b: its packet must not be delivered.
    await topo.exec('a', ['ip', 'addr', 'add', '192.0.2.3/24', 'dev', 'eth0']);
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.3', peers: ['192.0.2.2'], count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.1', peers: ['192.0.2.2'], count: 1 });
    const events = await receiverEvents(rx);
    expect(events.filter((e) => e.event === 'packet')).toEqual([{ event: 'packet', hex: ADVERT, src: '192.0.2.1', dst: '192.0.2.2', ttl: 255, ifindex: ifindexB }]);
    expect(events.at(-1)).toMatchObject({ event: 'done', stats: { received: 2, delivered: 1, dropped: { 'unknown-peer': 1 } } });
  });

  it('IPv6 unicast to a link-local peer', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 6, source: 'fe80::2', peers: ['fe80::1'], count: 1 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 6, source: 'fe80::1', peers: ['fe80::2'], count: 1 });
    const packets = (await receiverEvents(rx)).filter((e) => e.event === 'packet');
    expect(packets).toEqual([{ event: 'packet', hex: ADVERT, src: 'fe80::1', dst: 'fe80::2', ttl: 255, ifindex: ifindexB }]);
  });

  it('sees only its own interface: adverts arriving on another interface never reach it', async () => {
    await topo.namespace('c');
    await topo.link({ ns: 'c', ifname: 'eth0', addresses: ['198.51.100.3/24'] }, { ns: 'b', ifname: 'eth1', addresses: ['198.51.100.2/24'] });
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', count: 1 });
    // Unicast from c to b's eth1 address first: without SO_BINDTODEVICE a raw socket would receive it
    // (raw sockets see every proto-112 datagram for a local address); bound to eth0 it must not.
    await runAgent(topo, 'c', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '198.51.100.3', peers: ['198.51.100.2'], count: 2 });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.1', count: 1 });
    const events = await receiverEvents(rx);
    expect(events.filter((e) => e.event === 'packet')).toMatchObject([{ src: '192.0.2.1', ifindex: ifindexB }]);
    expect(events.at(-1)).toMatchObject({ event: 'done', stats: { received: 1, delivered: 1 } });
  });

  it('receives a burst of 200 packets sent back to back and survives close() inside the listener', async () => {
    const rx = await startReceiver(topo, 'b', { ...common, role: 'recv', family: 4, source: '192.0.2.2', count: 200, quiet: true, closeInListener: true });
    await runAgent(topo, 'a', TRANSPORT_AGENT, { ...common, role: 'send', family: 4, source: '192.0.2.1', count: 230, intervalMs: 0 });
    const events = await receiverEvents(rx);
    expect(events.at(-1)).toMatchObject({ event: 'done', seen: 200 });
  });
});
