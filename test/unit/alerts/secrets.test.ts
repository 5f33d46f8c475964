import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactText, redactUrl, resolveSecret } from '../../../src/alerts/secrets.js';

describe('resolveSecret', () => {
  const env = { HOOK_SECRET: 's3cret-value', EMPTY: '' };

  it('takes literals, ${ENV} references and files', () => {
    expect(resolveSecret('x', 'literal', undefined, env)).toBe('literal');
    expect(resolveSecret('x', '${HOOK_SECRET}', undefined, env)).toBe('s3cret-value');
    const dir = mkdtempSync(join(tmpdir(), 'lvskeep-secret-'));
    writeFileSync(join(dir, 'key'), 'from-file\n');
    expect(resolveSecret('x', undefined, join(dir, 'key'), env)).toBe('from-file');
    expect(resolveSecret('x', undefined, undefined, env)).toBeUndefined();
  });

  it('fails naming the field, never echoing a value', () => {
    expect(() => resolveSecret('alerts.sinks[pd].routing_key', '${NOPE}', undefined, env)).toThrow('alerts.sinks[pd].routing_key: environment variable NOPE is not set');
    expect(() => resolveSecret('f', '${EMPTY}', undefined, env)).toThrow('EMPTY is not set');
    expect(() => resolveSecret('f', 'a', '/x', env)).toThrow('not both');
    expect(() => resolveSecret('f', undefined, '/nonexistent/lvskeep-secret', env)).toThrow(/^f: cannot read secret file \/nonexistent\/lvskeep-secret/);
  });
});

describe('redaction', () => {
  it('keeps only scheme and host of webhook URLs, which carry tokens in path and query', () => {
    expect(redactUrl('https://hooks.slack.com/services/T000/B000/XXXXXXXX')).toBe('https://hooks.slack.com/…');
    expect(redactUrl('https://prod.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=zzz')).toBe('https://prod.westus.logic.azure.com/…');
    expect(redactUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(redactUrl('not a url')).toBe('<invalid url>');
  });

  it('removes secrets from texts', () => {
    expect(redactText('bad key abcd1234 rejected', ['abcd1234', undefined])).toBe('bad key <redacted> rejected');
  });
});
