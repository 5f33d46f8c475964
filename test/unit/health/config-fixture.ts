/** A configuration exercising every check type and pool option, parsed by the real config layer. */
import { parseConfigText } from '../../../src/config/load.js';
import type { VirtualServerConfig } from '../../../src/config/types.js';

export function virtualServers(yaml: string): VirtualServerConfig[] {
  const r = parseConfigText(yaml, 'test.yaml', {});
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config.virtual_servers;
}

export const YAML = `
virtual_servers:
  - name: web
    address: 203.0.113.10:443
    protocol: tcp
    quorum: 2
    quorum_hysteresis: 1
    sorry_server: 198.51.100.99:443
    panic_threshold: 30
    slow_start: 20s
    on_failure: remove
    flap: { max_changes: 4, window: 60s, penalty: 2m }
    check:
      type: https
      path: /health
      host: www.example.test
      interval: 3s
      timeout: 1s
      retries: 2
      retry_delay: 200ms
      jitter: 5
      expect: { status: [200, "300-399"], body: "ok" }
      headers: { x-probe: lvskeep }
      tls: { ca_file: /etc/lvskeep/ca.pem, sni: api.example.test }
    real_servers:
      - address: 198.51.100.11:443
        weight: 3
      - address: 198.51.100.12:8443
  - name: plain
    address: 203.0.113.10:110
    real_servers:
      - address: 198.51.100.41:110
        check: { type: tcp, send: "PING", expect: "PONG", connect: "203.0.113.10:110" }
  - name: dns
    address: 203.0.113.10:53
    protocol: udp
    check: { type: dns, name: svc.example.test, record_type: AAAA, assume: up }
    real_servers:
      - address: 198.51.100.21:53
  - name: scripted
    address: 203.0.113.10:25
    real_servers:
      - address: 198.51.100.31:25
        check: { type: script, command: [/usr/lib/lvskeep/check-smtp, --quick], dynamic_weight: true, user: nobody }
      - address: 198.51.100.32:25
`;

