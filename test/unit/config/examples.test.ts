import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadConfigFile } from '../../../src/config/load.js';

const dir = fileURLToPath(new URL('../../../config/', import.meta.url));
const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

describe('example configurations in config/', () => {
  it('includes the NAT, DR and TUN examples', () => {
    expect(files).toEqual(expect.arrayContaining(['nat.yaml', 'dr.yaml', 'tun.yaml']));
  });

  it.each(files)('%s loads without errors', async (file) => {
    const r = await loadConfigFile(join(dir, file), {});
    expect(r.ok ? [] : r.errors.map(formatIssue)).toEqual([]);
  });

  it('nat.yaml: rr over two nginx servers, NAT, a synced pair of VIPs, http checks', async () => {
    const r = await loadConfigFile(join(dir, 'nat.yaml'), {});
    if (!r.ok) throw new Error('nat.yaml did not load');
    const vs = r.config.virtual_servers[0];
    expect(vs).toMatchObject({ scheduler: 'rr', forwarding: 'nat' });
    expect(vs?.real_servers.map((x) => x.check?.type)).toEqual(['http', 'http']);
    expect(r.config.vrrp.sync_groups[0]?.instances).toEqual(['public', 'gateway']);
  });

  it('dr.yaml and tun.yaml use wlc with their forwarding method', async () => {
    for (const [file, fwd] of [['dr.yaml', 'dr'], ['tun.yaml', 'tun']] as const) {
      const r = await loadConfigFile(join(dir, file), {});
      if (!r.ok) throw new Error(`${file} did not load`);
      expect(r.config.virtual_servers[0]).toMatchObject({ scheduler: 'wlc', forwarding: fwd });
      expect(r.config.virtual_servers[0]?.real_servers.every((x) => x.forwarding === fwd)).toBe(true);
    }
  });
});
