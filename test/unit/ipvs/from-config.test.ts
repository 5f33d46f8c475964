import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';
import { desiredFromConfig } from '../../../src/ipvs/from-config.js';
import { planChanges } from '../../../src/ipvs/reconcile.js';
import { formatState } from '../../../src/ipvs/save-format.js';

function load(yaml: string): LvskeepConfig {
  const r = parseConfigText(yaml, 'test.yaml', {});
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

const YAML = `
global:
  router_id: t1
virtual_servers:
  - name: web
    address: 203.0.113.1:80
    protocol: tcp
    scheduler: wlc
    forwarding: nat
    persistence: { timeout: 5m, netmask: 255.255.255.0 }
    real_servers:
      - address: 198.51.100.11:8080
        weight: 3
        upper_threshold: 100
        lower_threshold: 10
      - address: 198.51.100.12
        forwarding: dr
  - name: dns
    address: 203.0.113.2:53
    protocol: udp
    scheduler: sh
    scheduler_flags: [sh-port]
    one_packet: true
    forwarding: tun
    tunnel_type: gue
    tunnel_port: 6080
    real_servers:
      - address: 198.51.100.21
  - name: marked
    fwmark: 7
    family: inet6
    scheduler: mh
    forwarding: dr
    real_servers:
      - address: "[2001:db8::1]"
`;

describe('desiredFromConfig', () => {
  it('turns configured virtual servers into the desired IPVS table', () => {
    const desired = desiredFromConfig(load(YAML));
    expect(formatState(desired)).toBe(
      [
        '-A -t 203.0.113.1:80 -s wlc -p 300 -M 255.255.255.0',
        '-a -t 203.0.113.1:80 -r 198.51.100.11:8080 -m -w 3 -x 100 -y 10',
        '-a -t 203.0.113.1:80 -r 198.51.100.12:80 -g -w 1',
        '-A -u 203.0.113.2:53 -s sh -o -b sh-port',
        '-a -u 203.0.113.2:53 -r 198.51.100.21:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum',
        '-A -f 7 -6 -s mh',
        '-a -f 7 -6 -r [2001:db8::1]:0 -g -w 1',
        '',
      ].join('\n'),
    );
    expect(planChanges(desired, [], { owned: 'configured' })).toHaveLength(7);
  });

  it("lets the pool decide each real server's weight, or leave it out", () => {
    const desired = desiredFromConfig(load(YAML), { realServerWeight: (vs, rs) => (rs.address.address === '198.51.100.12' ? null : vs.name === 'web' ? 0 : rs.weight) });
    expect(desired[0]?.dests.map((d) => [d.address, d.weight])).toEqual([['198.51.100.11', 0]]);
    expect(desired[1]?.dests.map((d) => d.weight)).toEqual([1]);
  });
});
