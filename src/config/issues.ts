/**
 * Configuration problems as operators see them: `FILE:LINE:COL: path.to.key: message`, plus the translation of
 * zod's issues (paths as arrays, generic English) into that form.
 */
import { z } from 'zod';
import { didYouMean } from './suggest.js';
import { describeValue } from './fields.js';

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** `virtual_servers[0].real_servers[1].weight`; empty for the document itself. */
  path: string;
  message: string;
}

export type PathSegment = string | number;

/** An issue before it has a position: the position is looked up from the YAML nodes by path. */
export interface PathIssue {
  path: PathSegment[];
  message: string;
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
  /** Raised by a rule relating several keys, not by the key's own value. */
  rule?: boolean;
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path === '' ? '(root)' : i.path}: ${i.message}`;
}

export function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.path.localeCompare(b.path) || a.message.localeCompare(b.message);
}

/** The value at `path` inside plain parsed YAML data, or undefined when any step is missing. */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PathSegment, unknown>)[seg];
  }
  return cur;
}

function hasKey(data: unknown, path: readonly PathSegment[]): boolean {
  const parent = valueAt(data, path.slice(0, -1));
  const last = path[path.length - 1];
  return last !== undefined && parent !== null && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, last);
}

interface KeyInfo {
  allowed: string[];
  /** For discriminated unions (checks): which other variants accept a key, e.g. path -> [http, https]. */
  otherVariants?: Map<string, string[]>;
  discriminator?: { key: string; value: string };
}

/** Unwrap zod wrappers (optional/default/pipe) down to the schema that sees the value's shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else break;
  }
  return s;
}

function objectKeys(schema: z.ZodType, data: unknown): KeyInfo | undefined {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return { allowed: Object.keys(s.shape) };
  if (s instanceof z.ZodDiscriminatedUnion) {
    const disc = (s as unknown as { _zod: { def: { discriminator: string } } })._zod.def.discriminator;
    const value = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[disc] : undefined;
    const otherVariants = new Map<string, string[]>();
    let allowed: string[] | undefined;
    for (const opt of s.options as z.ZodType[]) {
      const o = unwrap(opt);
      if (!(o instanceof z.ZodObject)) continue;
      const keys = Object.keys(o.shape);
      const lit = unwrap(o.shape[disc] as z.ZodType);
      const variant = lit instanceof z.ZodLiteral ? String(lit.value) : '?';
      if (variant === value) allowed = keys;
      for (const k of keys) otherVariants.set(k, [...(otherVariants.get(k) ?? []), variant]);
    }
    if (allowed === undefined) return undefined;
    return { allowed, otherVariants, discriminator: { key: disc, value: String(value) } };
  }
  return undefined;
}

/** Follow `path` through the schema (objects, arrays, unions picked by the data) to the object at its end. */
function keysAtPath(schema: z.ZodType, data: unknown, path: readonly PathSegment[]): KeyInfo | undefined {
  let s: z.ZodType | undefined = schema;
  let d = data;
  for (const seg of path) {
    if (!s) return undefined;
    const u = unwrap(s);
    if (u instanceof z.ZodArray && typeof seg === 'number') {
      s = u.element as z.ZodType;
    } else if (u instanceof z.ZodObject && typeof seg === 'string') {
      s = u.shape[seg] as z.ZodType | undefined;
    } else if (u instanceof z.ZodDiscriminatedUnion && typeof seg === 'string') {
      const info = objectKeys(u, d);
      if (!info) return undefined;
      const opt = (u.options as z.ZodType[]).find((o) => {
        const ob = unwrap(o);
        return ob instanceof z.ZodObject && info.allowed.every((k) => k in ob.shape);
      });
      const ob = opt ? unwrap(opt) : undefined;
      s = ob instanceof z.ZodObject ? (ob.shape[seg] as z.ZodType | undefined) : undefined;
    } else if (u instanceof z.ZodRecord) {
      s = u.valueType as z.ZodType;
    } else {
      return undefined;
    }
    d = valueAt(d, [seg]);
  }
  return s ? objectKeys(s, d) : undefined;
}

function unknownKeyMessage(key: string, info: KeyInfo | undefined): string {
  if (!info) return `unknown key "${key}"`;
  const variants = info.otherVariants?.get(key);
  if (variants && info.discriminator) {
    return `"${key}" is not valid for ${info.discriminator.key} ${info.discriminator.value} (only for ${variants.join(', ')})`;
  }
  const suggestion = didYouMean(key, info.allowed);
  if (suggestion) return `unknown key "${key}"; did you mean "${suggestion}"?`;
  return info.allowed.length <= 10 ? `unknown key "${key}"; valid keys: ${info.allowed.join(', ')}` : `unknown key "${key}"`;
}

const FRIENDLY_TYPE: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'a mapping',
};

// zod's built-in messages start like this; ours never do, so only these get reworded.
const ZOD_DEFAULT = /^(Invalid input|Invalid option|Too (big|small)|Unrecognized key|Invalid (string|number|discriminator)|Expected)/;

/** zod issues -> path issues with operator-facing wording; `data` is the raw value `schema` was given. */
export function explainZodIssues(schema: z.ZodType, data: unknown, issues: readonly z.core.$ZodIssue[]): PathIssue[] {
  const out: PathIssue[] = [];
  for (const iss of issues) {
    const path = iss.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    if (iss.code === 'unrecognized_keys') {
      const info = keysAtPath(schema, data, path);
      for (const key of iss.keys) out.push({ path: [...path, key], message: unknownKeyMessage(key, info), atKey: true });
      continue;
    }
    if (!ZOD_DEFAULT.test(iss.message)) {
      const params = iss.code === 'custom' ? (iss.params as { rule?: boolean; atKey?: boolean } | undefined) : undefined;
      out.push({ path, message: iss.message, ...(params?.rule ? { rule: true } : {}), ...(params?.atKey ? { atKey: true } : {}) });
      continue;
    }
    const value = valueAt(data, path);
    let message = iss.message;
    if (iss.code === 'invalid_type') {
      message = value === undefined && !hasKey(data, path) ? 'is required' : `expected ${FRIENDLY_TYPE[iss.expected] ?? iss.expected}, got ${describeValue(value)}`;
    } else if (iss.code === 'too_small' && iss.origin === 'array') {
      message = `needs at least ${String(iss.minimum)} item${iss.minimum === 1 ? '' : 's'}`;
    } else if (iss.code === 'too_big' && iss.origin === 'array') {
      message = `allows at most ${String(iss.maximum)} items`;
    } else if (iss.code === 'invalid_union') {
      message = `unexpected value (${describeValue(value)})`;
    }
    out.push({ path, message });
  }
  return out;
}
