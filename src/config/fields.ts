/**
 * Reusable zod field schemas: durations, addresses, argv lists, interface names. Each one turns the operator's
 * text into the value the agent uses (milliseconds, canonical addresses) and words its own error messages,
 * because zod's generic ones ("Invalid input") do not tell an operator what to write instead.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseAddress, parseCidr, parseEndpoint, type Address, type Cidr, type Endpoint } from './address.js';
import { didYouMean } from './suggest.js';
import { resolveRunAs, systemUserDb, type RunAs } from './users.js';

/** Describe a YAML value's type in words for messages ("a list", "a mapping", "a number"). */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}

export interface DurationBounds { min?: number; max?: number }

/** A duration string (`1s`, `250ms`, `1m30s`) as whole milliseconds, optionally bounded. */
export function duration(bounds: DurationBounds = {}) {
  return z.unknown().transform((v, ctx): number => {
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required (a duration such as 1s or 250ms)' });
      return z.NEVER;
    }
    const r = parseDuration(v);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    if (bounds.min !== undefined && r.ms < bounds.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${bounds.min}ms` });
      return z.NEVER;
    }
    if (bounds.max !== undefined && r.ms > bounds.max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${bounds.max}ms` });
      return z.NEVER;
    }
    return r.ms;
  });
}

function fromText<T>(what: string, parse: (s: string) => { ok: true; value: T } | { ok: false; message: string }) {
  return z.unknown().transform((v, ctx): T => {
    if (typeof v !== 'string') {
      ctx.addIssue({ code: 'custom', message: v === undefined ? `is required (${what})` : `expected ${what}, got ${describeValue(v)}` });
      return z.NEVER;
    }
    const r = parse(v);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r.value;
  });
}

/** A single IPv4/IPv6 address. */
export const address = () => fromText<Address>('an IP address', parseAddress);
/** `address/prefix` (a bare address means /32 or /128). */
export const cidr = () => fromText<Cidr>('an address such as 203.0.113.10/24', parseCidr);
/** `203.0.113.1:80` or `[2001:db8::1]:80`, port required. */
export const endpoint = () => fromText<Endpoint>('an endpoint such as 203.0.113.1:80 or [2001:db8::1]:80', (s) => parseEndpoint(s));
/** Endpoint text kept as a string; resolved later where a default port is known (real servers, sorry server). */
export const endpointText = () =>
  z.string({ error: (iss) => (iss.input === undefined ? 'is required (an endpoint such as 198.51.100.10:80)' : `expected an endpoint such as 198.51.100.10:80, got ${describeValue(iss.input)}`) });

/** Whole number in [min, max]. */
export function int(min: number, max: number) {
  return z
    .number({ error: (iss) => (iss.input === undefined ? `is required (a whole number ${min}..${max})` : `expected a whole number ${min}..${max}, got ${describeValue(iss.input)}`) })
    .int({ error: `must be a whole number ${min}..${max}` })
    .min(min, { error: `must be ${min}..${max}` })
    .max(max, { error: `must be ${min}..${max}` });
}

export const port = () => int(1, 65535);

/** A non-empty string. */
export function text(what = 'a non-empty string') {
  return z
    .string({ error: (iss) => (iss.input === undefined ? `is required (${what})` : `expected ${what}, got ${describeValue(iss.input)}`) })
    .min(1, { error: `must not be empty` });
}

/** Names that appear in logs, metrics labels and references: no spaces or control characters. */
export function name() {
  return text('a name').regex(/^[^\s\p{Cc}]+$/u, { error: 'names must not contain spaces or control characters' });
}

/** Linux interface name (IFNAMSIZ 16 including the NUL). */
export function ifname() {
  return text('an interface name such as eth0')
    .max(15, { error: 'interface names are at most 15 characters' })
    .regex(/^[^\s/:]+$/, { error: 'interface names cannot contain spaces, "/" or ":"' });
}

export function bool() {
  return z.boolean({ error: (iss) => (iss.input === undefined ? 'is required (true or false)' : `expected true or false, got ${describeValue(iss.input)}`) });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (iss) => {
      if (iss.input === undefined) return `is required (one of ${values.join(', ')})`;
      const hint = typeof iss.input === 'string' ? didYouMean(iss.input, values) : undefined;
      return hint ? `must be one of ${values.join(', ')}; did you mean "${hint}"?` : `must be one of ${values.join(', ')}, got ${JSON.stringify(iss.input)}`;
    },
  });
}

/**
 * A command as an argv list. A single string is refused rather than split: lvskeep never runs a shell, so
 * quoting and `$VAR` would silently not do what the operator expects.
 */
export function argv() {
  return z.unknown().transform((v, ctx): string[] => {
    if (typeof v === 'string') {
      ctx.addIssue({ code: 'custom', message: 'write the command as a list of arguments, e.g. ["/usr/local/bin/check", "--port", "80"]; lvskeep does not run a shell' });
      return z.NEVER;
    }
    if (!Array.isArray(v) || v.length === 0) {
      ctx.addIssue({ code: 'custom', message: v === undefined ? 'is required (a list of arguments)' : `expected a non-empty list of arguments, got ${describeValue(v)}` });
      return z.NEVER;
    }
    const bad = v.findIndex((a) => typeof a !== 'string' || a === '');
    if (bad >= 0) {
      ctx.addIssue({ code: 'custom', message: 'every argument must be a non-empty string (quote numbers)', path: [bad] });
      return z.NEVER;
    }
    if (!(v[0] as string).startsWith('/')) {
      ctx.addIssue({ code: 'custom', message: 'the program (first argument) must be an absolute path', path: [0] });
      return z.NEVER;
    }
    return v as string[];
  });
}

/** Free-form string map (HTTP headers). */
export function stringMap() {
  return z.record(z.string(), z.string({ error: (iss) => `header values must be strings, got ${describeValue(iss.input)}` }), {
    error: (iss) => `expected a mapping of names to strings, got ${describeValue(iss.input)}`,
  });
}

/** Absolute filesystem path. */
export function absPath() {
  return text('an absolute path').regex(/^\//, { error: 'must be an absolute path (starting with /)' });
}

/**
 * An issue from a rule that relates several keys. Tagged so that the loader's repair pass (which drops
 * reported keys to uncover further errors) never drops a key just because a rule mentioned it.
 */
export function ruleIssue(ctx: z.RefinementCtx, path: (string | number)[], message: string, atKey = false): void {
  ctx.addIssue({ code: 'custom', path, message, params: atKey ? { rule: true, atKey } : { rule: true } });
}

/**
 * The user a script runs as: `nobody`, `nobody:nogroup`, `65534`, `65534:65534`; resolved to numeric ids now
 * (src/config/users.ts), so an unknown user is reported at its line by `lvskeep check`.
 */
export function runAs() {
  return z.unknown().transform((v, ctx): RunAs => {
    const r = resolveRunAs(v, systemUserDb);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r.value;
  });
}
