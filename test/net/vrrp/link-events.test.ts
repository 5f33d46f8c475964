// Link state from rtnetlink notifications: with the /sys safety poll set to 10 s, a link going down (our own,
// the veth peer's carrier, a deleted link) and coming back is reported by an event, at once.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';
import { agentArgv, parseLines } from '../vrrp-io/agent-runner.js';

const LINK_AGENT = join(REPO_ROOT, 'test', 'net', 'vrrp', 'agents', 'link-agent.ts');
const SAFETY_POLL_MS = 10_000;

requireRoot('net/vrrp/link-events', ['ip'])('tracked link state follows rtnetlink events', () => {
  let topo: Topology;
  let agent: NsProcess;

  beforeAll(async () => {
    topo = new Topology();
    await topo.namespace('d1');
    await topo.namespace('peer');
    await topo.link({ ns: 'd1', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, { ns: 'peer', ifname: 'eth0', addresses: ['192.0.2.2/24'] });
    await topo.link({ ns: 'd1', ifname: 'eth1', addresses: ['198.51.100.1/24'] }, { ns: 'peer', ifname: 'eth1', addresses: ['198.51.100.2/24'] });
    agent = topo.spawn('d1', agentArgv(LINK_AGENT, { interfaces: ['eth0', 'eth1'], safetyPollMs: SAFETY_POLL_MS, timeoutMs: 120_000 }), { cwd: REPO_ROOT, label: 'link agent' });
    await agent.waitForOutput(/"event":"ready"/, 30_000);
    await waitChange((c) => c.name === 'eth1' && c.up === true, 0, 10_000); // the first poll has reported both
  });

  afterAll(async () => {
    await agent?.stop();
    await topo?.destroy();
  });

  type Change = { event: string; name: string; up: boolean; detail: string; at: number };
  const changes = (): Change[] => parseLines(agent.output()).filter((l) => l.event === 'change') as unknown as Change[];
  async function waitChange(pred: (c: Change) => boolean, from: number, timeoutMs: number): Promise<Change> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = changes().slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no such change within ${timeoutMs} ms:\n${agent.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Run `ip` in `ns`, then the change it causes; the latency is measured from just before `ip` started. */
  async function step(ns: string, argv: string[], pred: (c: Change) => boolean): Promise<{ change: Change; latencyMs: number }> {
    const from = changes().length;
    const t0 = Date.now();
    await topo.exec(ns, argv);
    // Far below the 10 s safety poll: only an event can deliver it in time, and the detail says which did.
    const change = await waitChange(pred, from, 3_000);
    return { change, latencyMs: change.at - t0 };
  }

  it('our own link down and up', async () => {
    const down = await step('d1', ['ip', 'link', 'set', 'eth0', 'down'], (c) => c.name === 'eth0' && !c.up);
    expect(down.change.detail).toBe('interface eth0 operstate down (rtnetlink)');
    const up = await step('d1', ['ip', 'link', 'set', 'eth0', 'up'], (c) => c.name === 'eth0' && c.up);
    expect(up.change.detail).toMatch(/^interface eth0 operstate (up|unknown) \(rtnetlink\)$/);
    console.log(`link events: eth0 down seen ${down.latencyMs} ms, up ${up.latencyMs} ms after \`ip link set\` started`);
  });

  it('the peer taking its end down (carrier loss) is down on ours', async () => {
    // The kernel's linkwatch sends carrier changes at most once a second (rate limit, not urgent here: both ends
    // have the same ifindex in their namespaces), and /sys changes at the same moment. Let the previous step's
    // run age out so the figure below is the event path's own latency.
    await new Promise((r) => setTimeout(r, 1200));
    const down = await step('peer', ['ip', 'link', 'set', 'eth1', 'down'], (c) => c.name === 'eth1' && !c.up);
    expect(down.change.detail).toMatch(/^interface eth1 operstate (down|lowerlayerdown) \(rtnetlink\)$/); // veth reports no carrier as down
    await step('peer', ['ip', 'link', 'set', 'eth1', 'up'], (c) => c.name === 'eth1' && c.up);
    console.log(`link events: eth1 carrier loss seen ${down.latencyMs} ms after \`ip link set\` started`);
  });

  it('a deleted link is down', async () => {
    const gone = await step('d1', ['ip', 'link', 'del', 'eth0'], (c) => c.name === 'eth0' && !c.up);
    expect(gone.change.detail).toMatch(/^interface eth0 operstate (down|lowerlayerdown|absent) \(rtnetlink\)$/);
  });
});
