import { parseConfigText, formatIssue, type ConfigResult } from '../../../src/config/load.js';
import type { LvskeepConfig } from '../../../src/config/types.js';

export function parse(yaml: string, env: NodeJS.ProcessEnv = {}): ConfigResult {
  return parseConfigText(yaml, 't.yaml', env);
}

/** The formatted errors (`t.yaml:L:C: path: message`); fails the test if the text loads. */
export function errors(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = parse(yaml, env);
  if (r.ok) throw new Error('expected configuration errors, but it loaded');
  return r.errors.map(formatIssue);
}

export function load(yaml: string, env: NodeJS.ProcessEnv = {}): LvskeepConfig {
  const r = parse(yaml, env);
  if (!r.ok) throw new Error(`expected the configuration to load:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.config;
}

export function warnings(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = parse(yaml, env);
  if (!r.ok) throw new Error(`expected the configuration to load:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.warnings.map(formatIssue);
}

/** Errors whose path is exactly `path`, messages only. */
export function messagesAt(yaml: string, path: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = parse(yaml, env);
  if (r.ok) throw new Error('expected configuration errors, but it loaded');
  return r.errors.filter((e) => e.path === path).map((e) => e.message);
}

/** A minimal valid virtual server block to extend in tests. */
export const VS = `virtual_servers:
  - name: web
    address: 203.0.113.10:80
    real_servers:
      - address: 198.51.100.11:80
`;

export const INSTANCE = `vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
`;
