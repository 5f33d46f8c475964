// Both VipManager implementations against a real kernel, inside a namespace: add a labelled VIP and
// see it in `ip -o addr show`, add again (idempotent), list it, remove it twice (idempotent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { VIP_AGENT, runAgent } from '../vrrp-io/agent-runner.js';

requireRoot('net/vip/vip-manager')('VipManager implementations in a namespace', () => {
  let topo: Topology;

  beforeAll(async () => {
    topo = new Topology();
    await topo.namespace('d');
    await topo.namespace('peer');
    await topo.link({ ns: 'd', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, { ns: 'peer', ifname: 'eth0', addresses: ['192.0.2.2/24'] });
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  const addrShow = async (): Promise<string> => (await topo.exec('d', ['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;

  describe.each(['netlink', 'iproute2'] as const)('%s', (kind) => {
    const v4 = { address: kind === 'netlink' ? '192.0.2.10' : '192.0.2.20', prefix: 24, dev: 'eth0', label: 'eth0:vip' };
    const v6 = { address: kind === 'netlink' ? '2001:db8::10' : '2001:db8::20', prefix: 64, dev: 'eth0' };

    it('adds a labelled IPv4 VIP and an IPv6 VIP idempotently, lists and removes them idempotently', async () => {
      const added = await runAgent(topo, 'd', VIP_AGENT, {
        kind,
        timeoutMs: 20_000,
        steps: [
          { op: 'add', vip: v4 },
          { op: 'add', vip: v4 },
          { op: 'add', vip: v6 },
          { op: 'add', vip: v6 },
          { op: 'list', ifname: 'eth0' },
        ],
      });
      expect(added.slice(0, 4).map((e) => e.ok)).toEqual([true, true, true, true]);
      const listed = added[4]?.vips as unknown[];
      expect(listed).toContainEqual(v4);
      expect(listed).toContainEqual(v6);
      expect(listed).toContainEqual({ address: '192.0.2.1', prefix: 24, dev: 'eth0' });

      const shown = await addrShow();
      expect(shown).toMatch(new RegExp(`inet ${v4.address.replace(/\./g, '\\.')}/24 scope global (secondary )?eth0:vip\\\\`));
      // nodad: the IPv6 VIP is usable at once, never "tentative".
      expect(shown).toMatch(new RegExp(`inet6 ${v6.address}/64 scope global nodad`));

      const removed = await runAgent(topo, 'd', VIP_AGENT, {
        kind,
        timeoutMs: 20_000,
        steps: [
          { op: 'remove', vip: v4 },
          { op: 'remove', vip: v4 },
          { op: 'remove', vip: v6 },
          { op: 'remove', vip: v6 },
        ],
      });
      expect(removed.map((e) => e.ok)).toEqual([true, true, true, true]);
      const after = await addrShow();
      expect(after).not.toContain(v4.address);
      expect(after).not.toContain(v6.address);
      expect(after).toContain('192.0.2.1/24');
    });

    it('names the VIP and device when the device does not exist', async () => {
      const [r] = await runAgent(topo, 'd', VIP_AGENT, { kind, timeoutMs: 20_000, steps: [{ op: 'add', vip: { address: '192.0.2.30', prefix: 24, dev: 'nodev0' } }] });
      expect(r).toMatchObject({ ok: false, code: 'ENODEV', error: expect.stringMatching(/^add 192\.0\.2\.30\/24 on nodev0: .*(nodev0|no such device)/i) });
    });
  });
});
