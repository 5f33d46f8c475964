/** docs/configuration.md must mention every key the schema accepts, so the operator docs cannot fall behind. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { checkSchema } from '../../../src/config/check-schema.js';

const docs = readFileSync(fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url)), 'utf8');

/** Every object key reachable in a schema (through wrappers, arrays, unions, records). */
function keys(schema: z.ZodType, out = new Set<string>(), seen = new Set<z.ZodType>()): Set<string> {
  if (seen.has(schema)) return out;
  seen.add(schema);
  const s = schema as unknown;
  if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodNullable) keys(s.unwrap() as z.ZodType, out, seen);
  else if (s instanceof z.ZodPipe) {
    keys(s.in as z.ZodType, out, seen);
    keys(s.out as z.ZodType, out, seen);
  } else if (s instanceof z.ZodArray) keys(s.element as z.ZodType, out, seen);
  else if (s instanceof z.ZodUnion) for (const o of s.options as z.ZodType[]) keys(o, out, seen);
  else if (s instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) {
      out.add(k);
      keys(v, out, seen);
    }
  }
  return out;
}

describe('docs/configuration.md', () => {
  const all = [...keys(configSchema), ...keys(checkSchema)];

  it('finds the keys to look for (the walker reaches nested sections)', () => {
    expect(all).toEqual(expect.arrayContaining(['virtual_router_id', 'real_servers', 'garp', 'repeat', 'routing_key_file', 'record_type', 'verify']));
  });

  // `key`, `key[]`, `section.key`, or a section heading `## key`.
  const documented = (key: string): boolean => new RegExp(`\`(?:[\\w.\\[\\]]*\\.)?${key}(?:\\[\\])?\`|^## ${key}\\b`, 'm').test(docs);

  it('does not match keys that are not there', () => {
    expect(documented('no_such_key')).toBe(false);
  });

  it.each([...new Set(all)].sort())('documents `%s`', (key) => {
    expect(documented(key)).toBe(true);
  });
});
