import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/config/env.js';
import { errors, load, parse } from './helpers.js';
import { formatIssue } from '../../../src/config/load.js';

describe('interpolateEnv', () => {
  const env = { TOKEN: 's3cr3t-value', EMPTY: '', A: 'x' };
  it('substitutes ${NAME} and records which variables were used', () => {
    expect(interpolateEnv('Bearer ${TOKEN}', env)).toEqual({ ok: true, value: 'Bearer s3cr3t-value', used: ['TOKEN'] });
    expect(interpolateEnv('${A}${A}-${EMPTY}.', env)).toEqual({ ok: true, value: 'xx-.', used: ['A', 'A', 'EMPTY'] });
  });
  it('leaves text without ${ alone, including lone $', () => {
    expect(interpolateEnv('cost $5 and $HOME', env)).toEqual({ ok: true, value: 'cost $5 and $HOME', used: [] });
  });
  it('writes $${X} as a literal ${X}', () => {
    expect(interpolateEnv('keep $${TOKEN} and ${A}', env)).toEqual({ ok: true, value: 'keep ${TOKEN} and x', used: ['A'] });
  });
  it('rejects unset variables, bad names and unterminated references', () => {
    expect(interpolateEnv('${NOPE}', env)).toEqual({ ok: false, message: 'environment variable NOPE is not set' });
    expect(interpolateEnv('${1BAD}', env)).toMatchObject({ ok: false, message: expect.stringContaining('invalid environment variable name') });
    expect(interpolateEnv('${A', env)).toMatchObject({ ok: false, message: expect.stringContaining('unterminated') });
  });
});

describe('environment interpolation in the configuration', () => {
  const sink = (url: string): string => `alerts:\n  sinks:\n    - name: chat\n      type: slack\n      url: "${url}"\n`;

  it('fills string scalars from the environment', () => {
    const c = load(sink('https://hooks.example.com/${SLACK_PATH}'), { SLACK_PATH: 'T000/B000/XXXX' });
    expect(c.alerts.sinks[0]?.url).toBe('https://hooks.example.com/T000/B000/XXXX');
  });

  it('reports an unset variable at the scalar, once', () => {
    expect(errors(sink('https://hooks.example.com/${SLACK_PATH}'))).toEqual([
      't.yaml:5:12: alerts.sinks[0].url: environment variable SLACK_PATH is not set',
    ]);
  });

  it('does not interpolate keys, and keeps $${...} literal', () => {
    const c = load('alerts:\n  sinks:\n    - name: s\n      type: webhook\n      url: https://example.com/\n      headers:\n        X-Tpl: "$${NOT_A_VAR}"\n        "${KEY}": v\n', { KEY: 'replaced' });
    expect(c.alerts.sinks[0]?.headers).toEqual({ 'X-Tpl': '${NOT_A_VAR}', '${KEY}': 'v' });
  });

  it('never prints a substituted secret in an error message', () => {
    // A secret that makes the URL invalid: the message must not echo it.
    const secret = 'not a url at all';
    const r = parse(sink('${HOOK}'), { HOOK: secret });
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.errors.map(formatIssue).join('\n');
    expect(text).toContain('alerts.sinks[0].url: must be an http:// or https:// URL');
    expect(text).not.toContain(secret);
  });

  it('redacts substituted values even where a message quotes the value', () => {
    const r = parse('log:\n  level: "${LEVEL}"\n', { LEVEL: 'supersecretlevel' });
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.errors.map(formatIssue).join('\n');
    expect(text).toContain('log.level: must be one of');
    expect(text).toContain('***');
    expect(text).not.toContain('supersecretlevel');
  });
});
