/**
 * Health checks. A virtual server's `check` is the default for its real servers; a real server's `check`
 * overrides it key by key (so `check: { path: /health }` on one real server keeps the rest of the default).
 * Merging happens on the raw YAML values, before defaults, so a default never overrides an inherited value.
 */
import { z } from 'zod';
import { address, argv, bool, duration, endpoint, int, oneOf, ruleIssue, runAs, stringMap, text } from './fields.js';

export const CHECK_TYPES = ['http', 'https', 'tcp', 'script', 'dns'] as const;
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT'] as const;

/** `200`, `"200-299"` -> inclusive ranges. */
export interface StatusRange { from: number; to: number }

const statusItem = z.union([z.number(), z.string()]).transform((v, ctx): StatusRange => {
  const m = typeof v === 'number' ? [String(v), String(v), String(v)] : /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(v);
  const from = Number(m?.[1]);
  const to = Number(m?.[2] ?? m?.[1]);
  if (!m || !Number.isInteger(from) || from < 100 || to > 599 || from > to) {
    ctx.addIssue({ code: 'custom', message: `status must be a code 100..599 or a range such as "200-299", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return { from, to };
});

const regexText = text('a regular expression').superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

export interface Digest { algorithm: 'md5' | 'sha256'; hex: string }
const digest = text('an md5 or sha256 hex digest').transform((s, ctx): Digest => {
  const hex = s.toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex)) return { algorithm: 'md5', hex };
  if (/^[0-9a-f]{64}$/.test(hex)) return { algorithm: 'sha256', hex };
  ctx.addIssue({ code: 'custom', message: 'digest must be 32 (md5) or 64 (sha256) hex digits' });
  return z.NEVER;
});

const httpExpect = z
  .strictObject({
    // A single code or range may be written without a list.
    status: z
      .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(statusItem).min(1, { error: 'list at least one status' }))
      .default([{ from: 200, to: 299 }]),
    body: regexText.optional(),
    digest: digest.optional(),
  })
  .prefault({});

/** Keys every check type accepts. */
const common = {
  interval: duration({ min: 10, max: 3_600_000 }).default(2000),
  timeout: duration({ min: 1, max: 3_600_000 }).default(1000),
  rise: int(1, 1000).default(2),
  fall: int(1, 1000).default(3),
  retries: int(0, 100).default(0),
  retry_delay: duration({ max: 3_600_000 }).default(500),
  assume: oneOf(['up', 'down'] as const).default('down'),
  jitter: int(0, 50).default(10),
  connect: endpoint().optional(),
  bind: address().optional(),
};

const httpKeys = {
  method: oneOf(['GET', 'HEAD'] as const).default('GET'),
  path: text('a URL path').regex(/^\//, { error: 'path must start with /' }).default('/'),
  host: text('a host name').optional(),
  expect: httpExpect,
  headers: stringMap().optional(),
  reuse_connection: bool().default(false),
};

const tls = z
  .strictObject({
    sni: text('a server name').optional(),
    ca_file: text('a file path').regex(/^\//, { error: 'must be an absolute path' }).optional(),
    verify: bool().default(true),
  })
  .prefault({});

/** Interval must leave room for the probe; otherwise probes overlap. */
function timeoutBelowInterval(c: { interval: number; timeout: number }, ctx: z.RefinementCtx): void {
  if (c.timeout >= c.interval) ruleIssue(ctx, ['timeout'], `timeout (${c.timeout}ms) must be shorter than interval (${c.interval}ms)`);
}

const httpCheck = z.strictObject({ type: z.literal('http'), ...common, ...httpKeys }).superRefine(timeoutBelowInterval);
const httpsCheck = z.strictObject({ type: z.literal('https'), ...common, ...httpKeys, tls }).superRefine(timeoutBelowInterval);
const tcpCheck = z
  .strictObject({ type: z.literal('tcp'), ...common, send: text('a string to send').optional(), expect: text('an expected reply').optional() })
  .superRefine(timeoutBelowInterval);
const scriptCheck = z
  .strictObject({
    type: z.literal('script'),
    ...common,
    command: argv(),
    dynamic_weight: bool().default(false),
    user: runAs().optional(),
  })
  .superRefine(timeoutBelowInterval);
const dnsCheck = z
  .strictObject({ type: z.literal('dns'), ...common, name: text('a DNS name'), record_type: oneOf(DNS_RECORD_TYPES).default('A') })
  .superRefine(timeoutBelowInterval);

export const checkSchema = z.discriminatedUnion('type', [httpCheck, httpsCheck, tcpCheck, scriptCheck, dnsCheck], {
  error: (iss) => {
    const typed = iss.input !== null && typeof iss.input === 'object' && 'type' in iss.input;
    return typed ? `check type must be one of ${CHECK_TYPES.join(', ')}` : `check needs a type: one of ${CHECK_TYPES.join(', ')}`;
  },
});

/** Which check types accept each key, for "not valid for type tcp" messages. */
export const CHECK_KEYS_BY_TYPE: Record<(typeof CHECK_TYPES)[number], readonly string[]> = {
  http: Object.keys(httpCheck.shape),
  https: Object.keys(httpsCheck.shape),
  tcp: Object.keys(tcpCheck.shape),
  script: Object.keys(scriptCheck.shape),
  dns: Object.keys(dnsCheck.shape),
};

/** Raw check mapping as written (validated by checkSchema after merging). */
export const rawCheck = z.record(z.string(), z.unknown(), { error: (iss) => `check must be a mapping, got ${Array.isArray(iss.input) ? 'a list' : typeof iss.input}` });
