import { mkdtemp, readFile, writeFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIssue, loadConfigFile } from '../../../src/config/load.js';
import { didYouMean, levenshtein } from '../../../src/config/suggest.js';
import { errors, load, messagesAt, parse } from './helpers.js';

describe('error format and positions', () => {
  it('formats FILE:LINE:COL: path: message', () => {
    expect(formatIssue({ file: 'a.yaml', line: 3, col: 5, path: 'virtual_servers[0].real_servers[1].weight', message: 'must be 0..65535' })).toBe(
      'a.yaml:3:5: virtual_servers[0].real_servers[1].weight: must be 0..65535',
    );
    expect(formatIssue({ file: 'a.yaml', line: 1, col: 1, path: '', message: 'x' })).toBe('a.yaml:1:1: (root): x');
  });

  it('points at the offending value', () => {
    const yaml = `virtual_servers:
  - address: 203.0.113.10:80
    real_servers:
      - address: 198.51.100.11:80
      - address: 198.51.100.12:80
        weight: 70000
`;
    expect(errors(yaml)).toEqual(['t.yaml:6:17: virtual_servers[0].real_servers[1].weight: must be 0..65535']);
  });

  it('points at the parent mapping for a missing key', () => {
    const yaml = `vrrp:
  instances:
    - name: v1
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
`;
    expect(errors(yaml)).toEqual(['t.yaml:3:7: vrrp.instances[0].interface: is required (an interface name such as eth0)']);
  });

  it('points at the key for an unknown key and suggests the closest one', () => {
    const yaml = `global:
  router_id: a
  startup_dely: 1s
log:
  levl: debug
`;
    expect(errors(yaml)).toEqual([
      't.yaml:3:3: global.startup_dely: unknown key "startup_dely"; did you mean "startup_delay"?',
      't.yaml:5:3: log.levl: unknown key "levl"; did you mean "level"?',
    ]);
  });

  it('lists the valid keys when nothing is close', () => {
    expect(errors('log:\n  zzzzzzzz: 1\n')).toEqual(['t.yaml:2:3: log.zzzzzzzz: unknown key "zzzzzzzz"; valid keys: level, format']);
    expect(messagesAt('bogus_section: 1\n', 'bogus_section')[0]).toBe('unknown key "bogus_section"');
  });

  it('explains check keys that belong to another check type', () => {
    const yaml = `${'virtual_servers:\n  - address: 203.0.113.10:80\n    check: { type: tcp, path: /x }\n'}`;
    expect(errors(yaml)).toEqual(['t.yaml:3:25: virtual_servers[0].check.path: "path" is not valid for type tcp (only for http, https)']);
  });

  it('reuse_connection: a boolean, on http and https checks only', () => {
    const http = 'virtual_servers:\n  - address: 203.0.113.10:80\n    check: { type: http, reuse_connection: often }\n';
    expect(errors(http)).toEqual(['t.yaml:3:44: virtual_servers[0].check.reuse_connection: expected true or false, got a string']);
    const tcp = 'virtual_servers:\n  - address: 203.0.113.10:80\n    check: { type: tcp, reuse_connection: true }\n';
    expect(errors(tcp)).toEqual(['t.yaml:3:25: virtual_servers[0].check.reuse_connection: "reuse_connection" is not valid for type tcp (only for http, https)']);
  });

  it('checks global.vrrp_nice: a whole number -20..19, at its value', () => {
    expect(errors('global:\n  vrrp_nice: -21\n')).toEqual(['t.yaml:2:14: global.vrrp_nice: must be -20..19']);
    expect(errors('global:\n  vrrp_nice: 2.5\n')).toEqual(['t.yaml:2:14: global.vrrp_nice: must be a whole number -20..19']);
    expect(errors('global:\n  vrrp_nice: high\n')).toEqual(['t.yaml:2:14: global.vrrp_nice: expected a whole number -20..19, got a string']);
  });

  it('checks global.vrrp_rt_priority (0..99) and vrrp_rlimit_rttime (µs) at their values', () => {
    expect(errors('global:\n  vrrp_rt_priority: 100\n')).toEqual(['t.yaml:2:21: global.vrrp_rt_priority: must be 0..99']);
    expect(errors('global:\n  vrrp_rt_priority: -1\n')).toEqual(['t.yaml:2:21: global.vrrp_rt_priority: must be 0..99']);
    expect(errors('global:\n  vrrp_rt_priority: rr\n')).toEqual(['t.yaml:2:21: global.vrrp_rt_priority: expected a whole number 0..99, got a string']);
    expect(errors('global:\n  vrrp_rlimit_rttime: 500\n')).toEqual(['t.yaml:2:23: global.vrrp_rlimit_rttime: must be 10000..10000000']);
  });

  it('reports YAML syntax errors at their position', () => {
    const e = errors('global:\n  router_id: [a\nlog: {}\n');
    expect(e.length).toBeGreaterThan(0);
    expect(e[0]).toMatch(/^t\.yaml:\d+:\d+: \(root\): YAML: /);
    expect(errors('a: 1\na: 2\n')).toEqual(['t.yaml:2:1: (root): YAML: Map keys must be unique']);
  });

  it('reports every error at once, sorted by position', () => {
    const yaml = `log:
  level: loud
global:
  startup_delay: 5
virtual_servers:
  - address: 203.0.113.10:80
    scheduler: fastest
    real_servers:
      - address: 198.51.100.11:80
        weight: -1
`;
    const e = errors(yaml);
    expect(e).toEqual([
      't.yaml:2:10: log.level: must be one of trace, debug, info, warn, error, got "loud"',
      't.yaml:4:18: global.startup_delay: a duration needs a unit: write 5s or 5000ms',
      't.yaml:7:16: virtual_servers[0].scheduler: must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, got "fastest"',
      't.yaml:10:17: virtual_servers[0].real_servers[0].weight: must be 0..65535',
    ]);
  });

  it('still reports rules of an object whose other keys are invalid', () => {
    // weight is wrong, which hides the virtual server's own rules from zod; the loader must still find them.
    const yaml = `virtual_servers:
  - address: 203.0.113.10:80
    check: { type: http, interval: 1s, timeout: 2s }
    real_servers:
      - address: 198.51.100.11:80
        weight: 70000
  - address: 203.0.113.10:80
`;
    expect(errors(yaml)).toEqual([
      't.yaml:3:49: virtual_servers[0].check.timeout: timeout (2000ms) must be shorter than interval (1000ms)',
      't.yaml:6:17: virtual_servers[0].real_servers[0].weight: must be 0..65535',
      't.yaml:7:14: virtual_servers[1].address: duplicate virtual server tcp 203.0.113.10:80 (also virtual_servers[0])',
    ]);
  });

  it('suggests the closest allowed value for a misspelt choice', () => {
    expect(messagesAt('virtual_servers:\n  - { address: "203.0.113.10:80", scheduler: wlcc }\n', 'virtual_servers[0].scheduler')).toEqual([
      'must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf; did you mean "wlc"?',
    ]);
    expect(messagesAt('alerts:\n  sinks:\n    - { name: a }\n', 'alerts.sinks[0].type')).toEqual(['is required (one of webhook, slack, teams, pagerduty, opsgenie, script)']);
  });

  it('describes wrong types in operator words', () => {
    expect(messagesAt('virtual_servers: {}\n', 'virtual_servers')).toEqual(['expected a list, got a mapping']);
    expect(messagesAt('virtual_servers: [hello]\n', 'virtual_servers[0]')).toEqual(['expected a mapping, got a string']);
    expect(messagesAt('metrics: { enabled: "yes" }\n', 'metrics.enabled')).toEqual(['expected true or false, got a string']);
  });

  it('requires the document to be a mapping; an empty one is all defaults', () => {
    expect(errors('- a\n- b\n')).toEqual(['t.yaml:1:1: (root): the configuration must be a mapping of sections (global, vrrp, virtual_servers, ...)']);
    expect(load('').log.level).toBe('info');
    expect(load('# only a comment\n').virtual_servers).toEqual([]);
  });

  it('counts lines the same with CRLF line ends and a byte order mark', () => {
    expect(errors('\ufefflog:\r\n  level: loud\r\n')).toEqual(['t.yaml:2:10: log.level: must be one of trace, debug, info, warn, error, got "loud"']);
  });

  it('follows aliases and merge keys', () => {
    const yaml = `x-check: &chk { type: http, path: /health }
virtual_servers:
  - address: 203.0.113.10:80
    check:
      <<: *chk
      interval: 5s
`;
    // x-check is not a section: unknown key, but the merged check itself is fine.
    expect(errors(yaml)).toEqual(['t.yaml:1:1: x-check: unknown key "x-check"']);
  });
});

describe('YAML constructs the yaml package rejects while resolving', () => {
  it('reports a merge of a non-mapping at the merge key instead of throwing', () => {
    const e = errors('log:\n  level: info\n  <<: 5\n');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/^t\.yaml:3:3: \(root\): YAML: /);
  });
});

describe('did you mean', () => {
  it('computes edit distance', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
  });
  it('suggests only close candidates, ignoring case and - versus _', () => {
    expect(didYouMean('advert-interval', ['advert_interval', 'priority'])).toBe('advert_interval');
    expect(didYouMean('PRIORTY', ['advert_interval', 'priority'])).toBe('priority');
    expect(didYouMean('xyz', ['advert_interval', 'priority'])).toBeUndefined();
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing file at 1:1', async () => {
    const path = join(dir, 'nope.yaml');
    const r = await loadConfigFile(path, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatIssue)).toEqual([`${path}:1:1: (root): cannot read configuration: file not found`]);
  });

  it('names a directory given as the file', async () => {
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const r = await loadConfigFile(sub, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toBe('cannot read configuration: is a directory');
  });

  it('loads a file and reports errors with its path', async () => {
    const path = join(dir, 'a.yaml');
    await writeFile(path, 'log:\n  level: loud\n');
    const r = await loadConfigFile(path, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.file).toBe(path);
    await writeFile(path, 'log:\n  level: debug\n');
    const good = await loadConfigFile(path, {});
    expect(good.ok && good.config.log.level).toBe('debug');
  });
});

describe('broken fixture', () => {
  it('reports every planted error, exactly as recorded', async () => {
    const dir = new URL('../../fixtures/config/', import.meta.url);
    const text = await readFile(new URL('broken.yaml', dir), 'utf8');
    const expected = (await readFile(new URL('broken.expected.txt', dir), 'utf8')).trimEnd().split('\n');
    const r = parse(text.replaceAll('t.yaml', ''), {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => formatIssue({ ...e, file: 'broken.yaml' }))).toEqual(expected);
  });
});
