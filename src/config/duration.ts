/**
 * Durations in the configuration are strings with units (`250ms`, `1.5s`, `1m30s`, `2h`) and come out as whole
 * milliseconds. Bare numbers are refused on purpose: `interval: 5` is ambiguous (seconds? milliseconds?) and
 * keepalived users will write exactly that.
 */

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Order units must appear in; each at most once, so `1s1m` or `1s2s` are rejected as likely typos. */
const UNIT_ORDER: readonly Unit[] = ['h', 'm', 's', 'ms'];

// `ms` must be tried before `m` and `s`.
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/** Hint for a number without a unit, e.g. 1 -> "write 1s or 1000ms". */
export function bareNumberHint(n: number): string {
  return `a duration needs a unit: write ${n}s or ${n * 1000}ms`;
}

export function parseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') return { ok: false, message: bareNumberHint(input) };
  if (typeof input !== 'string') return { ok: false, message: `expected a duration such as 1s or 250ms, got ${describeType(input)}` };
  const text = input.trim();
  if (text === '') return { ok: false, message: 'empty duration: write e.g. 1s or 250ms' };
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return { ok: false, message: bareNumberHint(Number(text)) };
  if (text.startsWith('-')) return { ok: false, message: `duration "${text}" must not be negative` };

  let total = 0;
  let pos = 0;
  let lastUnitIndex = -1;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) {
      return { ok: false, message: `invalid duration "${text}": expected <number><unit> parts with units h, m, s, ms (e.g. 1m30s, 250ms)` };
    }
    const unit = m[2] as Unit;
    const unitIndex = UNIT_ORDER.indexOf(unit);
    if (unitIndex <= lastUnitIndex) {
      return { ok: false, message: `invalid duration "${text}": units must appear once each, largest first (h, m, s, ms)` };
    }
    lastUnitIndex = unitIndex;
    total += Number(m[1]) * UNIT_MS[unit];
    pos = PART.lastIndex;
  }
  // Floating point: 0.1s * 1000 is 100.00000000000001; accept values within a micro-rounding of an integer.
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6) {
    return { ok: false, message: `duration "${text}" is finer than a millisecond` };
  }
  if (!Number.isSafeInteger(rounded)) return { ok: false, message: `duration "${text}" is too large` };
  return { ok: true, ms: rounded };
}

/** Render milliseconds the way an operator would write them (`1m30s`, `250ms`), for messages and `config show`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : typeof v;
}
