/** Secrets in a configuration (or secret file) that other users can read draw a warning naming key, mode and fix. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIssue, loadConfigFile } from '../../../src/config/load.js';
import { octalMode, urlHasCredentials } from '../../../src/config/exposure.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvskeep-exposure-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** A real file with a real mode, loaded the way `lvskeep check` and `run` load it. */
async function warningsOf(yaml: string, mode: number, env: NodeJS.ProcessEnv = {}): Promise<{ file: string; warnings: string[] }> {
  const file = join(dir, `c${n++}.yaml`);
  await writeFile(file, yaml);
  await chmod(file, mode);
  const r = await loadConfigFile(file, env);
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return { file, warnings: r.warnings.map(formatIssue) };
}

const SECRETS = `vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      auth: { type: hmac, secret: "0123456789abcdef0123" }
virtual_servers:
  - name: web
    address: 203.0.113.10:80
    check: { type: http, headers: { Authorization: "Bearer abc", x-probe: lvskeep } }
    real_servers:
      - address: 198.51.100.11:80
alerts:
  sinks:
    - { name: chat, type: slack, url: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX" }
    - { name: hook, type: webhook, url: "https://alerts.example.test/in?token=abc", secret: "0123456789abcdef0123" }
    - { name: pd, type: pagerduty, routing_key: "R0123456789abcdef0123456789abcdef" }
    - { name: og, type: opsgenie, api_key: "0123-4567", headers: { X-Api-Key: k } }
`;

describe('secrets in a configuration file readable by others', () => {
  it('each literal secret is warned about at its position, with the mode and the fix', async () => {
    const { file, warnings } = await warningsOf(SECRETS, 0o644);
    const fix = `readable by its group and others (mode 0644): chmod 600 ${file}, or set it from the environment with \${NAME}`;
    expect(warnings).toEqual([
      `${file}:7:35: vrrp.instances[0].auth.secret: VRRP hmac secret written in a file ${fix}`,
      `${file}:11:52: virtual_servers[0].check.headers.Authorization: HTTP header Authorization written in a file ${fix}`,
      `${file}:16:39: alerts.sinks[0].url: slack webhook URL (the URL is the credential) written in a file ${fix}`,
      `${file}:17:41: alerts.sinks[1].url: webhook URL with a token or credentials in it written in a file ${fix}`,
      `${file}:17:93: alerts.sinks[1].secret: webhook signing secret written in a file ${fix}`,
      `${file}:18:49: alerts.sinks[2].routing_key: PagerDuty routing key written in a file ${fix}`,
      `${file}:19:44: alerts.sinks[3].api_key: Opsgenie API key written in a file ${fix}`,
      `${file}:19:79: alerts.sinks[3].headers.X-Api-Key: HTTP header X-Api-Key written in a file ${fix}`,
    ]);
  });

  it('names who can read it: group only, others only', async () => {
    const group = await warningsOf(SECRETS, 0o640);
    expect(group.warnings[0]).toContain('readable by its group (mode 0640)');
    const others = await warningsOf(SECRETS, 0o604);
    expect(others.warnings[0]).toContain('readable by others (mode 0604)');
  });

  it('mode 0600 (or 0400): no warning', async () => {
    expect((await warningsOf(SECRETS, 0o600)).warnings).toEqual([]);
    expect((await warningsOf(SECRETS, 0o400)).warnings).toEqual([]);
  });

  it('${ENV} values are not in the file: no warning for them, but still for a literal next to them', async () => {
    const env = { VRRP_SECRET: '0123456789abcdef0123', SLACK_URL: 'https://hooks.slack.com/services/T/B/secret' };
    const yaml = `vrrp:
  instances:
    - name: v1
      interface: eth0
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      auth: { type: hmac, secret: "\${VRRP_SECRET}" }
alerts:
  sinks:
    - { name: chat, type: slack, url: "\${SLACK_URL}" }
    - { name: pd, type: pagerduty, routing_key: "literal-routing-key" }
`;
    const { file, warnings } = await warningsOf(yaml, 0o644, env);
    expect(warnings).toEqual([
      `${file}:11:49: alerts.sinks[1].routing_key: PagerDuty routing key written in a file readable by its group and others (mode 0644): chmod 600 ${file}, or set it from the environment with \${NAME}`,
    ]);
    expect((await warningsOf(yaml.replace('"literal-routing-key"', '"${PD_KEY}"'), 0o644, { ...env, PD_KEY: 'k'.repeat(32) })).warnings).toEqual([]);
  });

  it('a readable file without secrets is fine (plain webhook URLs and headers are not secrets)', async () => {
    const yaml = `alerts:
  sinks:
    - { name: hook, type: webhook, url: "http://203.0.113.50:9000/alerts", headers: { X-Source: lb1 } }
`;
    expect((await warningsOf(yaml, 0o644)).warnings).toEqual([]);
  });

  it('an aliased secret is reported for each key that uses it', async () => {
    const yaml = `vrrp:
  instances:
    - { name: a, interface: eth0, virtual_router_id: 1, virtual_ips: [203.0.113.1/24], auth: { type: hmac, secret: &s "0123456789abcdef0123" } }
    - { name: b, interface: eth0, virtual_router_id: 2, virtual_ips: [203.0.113.2/24], auth: { type: hmac, secret: *s } }
`;
    const { warnings } = await warningsOf(yaml, 0o644);
    expect(warnings.map((w) => w.split(': ')[1])).toEqual(['vrrp.instances[0].auth.secret', 'vrrp.instances[1].auth.secret']);
  });
});

describe('secret files', () => {
  it('a secret file readable by others is warned about at its key, whatever the configuration mode', async () => {
    const key = join(dir, 'pd.key');
    await writeFile(key, 'R0123456789abcdef0123456789abcdef\n');
    await chmod(key, 0o644);
    const yaml = `alerts:\n  sinks:\n    - { name: pd, type: pagerduty, routing_key_file: ${key} }\n`;
    const { file, warnings } = await warningsOf(yaml, 0o600);
    expect(warnings).toEqual([`${file}:3:54: alerts.sinks[0].routing_key_file: secret file ${key} is readable by its group and others (mode 0644): chmod 600 ${key}`]);
    await chmod(key, 0o600);
    expect((await warningsOf(yaml, 0o600)).warnings).toEqual([]);
  });
});

describe('a configuration file writable by others', () => {
  it('is warned about even without secrets: whoever writes it chooses what lvskeep runs', async () => {
    const { file, warnings } = await warningsOf('log: { level: info }\n', 0o666);
    expect(warnings).toEqual([`${file}:1:1: (root): ${file} is writable by others (mode 0666), who can then choose the commands lvskeep runs: chmod 600 ${file}`]);
  });
});

describe('helpers', () => {
  it('formats modes and recognises URLs with credentials', () => {
    expect(octalMode(0o100644)).toBe('0644');
    expect(octalMode(0o600)).toBe('0600');
    expect(urlHasCredentials('https://discord.com/api/webhooks/123456789/AbCdEf0123456789xyzXYZ_-')).toBe(true);
    expect(urlHasCredentials('https://user:pw@alerts.example.test/')).toBe(true);
    expect(urlHasCredentials('https://chat.googleapis.com/v1/spaces/X/messages?key=a&token=b')).toBe(true);
    expect(urlHasCredentials('http://203.0.113.50:9000/alerts')).toBe(false);
    expect(urlHasCredentials('https://alerts.example.test/lvskeep/director-events')).toBe(false);
  });
});
