/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws, naming the
 * line, on anything a Prometheus server would reject (bad metric or label names, unescaped quotes, bad values,
 * samples without a TYPE, a family declared twice, duplicate series), and returns the families and samples.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  // Prometheus parses values with Go's strconv.ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special) return special[2]?.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value "${text}"`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` starting at s[i] === '{'; returns the labels and the index after `}`. */
function parseLabels(s: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (i < s.length && s[i] !== '}') {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label ${name} given twice`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label ${name} value is not quoted`);
    let j = eq + 2;
    let value = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const next = s[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape \\${next ?? ''} in label ${name}`);
        j++;
      } else value += s[j];
    }
    if (s[j] !== '"') throw new Error(`${where}: unterminated value of label ${name}`);
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
  }
  if (s[i] !== '}') throw new Error(`${where}: missing "}"`);
  return { labels, end: i + 1 };
}

/** The family a sample belongs to: histogram samples carry _bucket/_sum/_count suffixes. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
  }
  return undefined;
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition does not end with a newline');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} "${line.slice(0, 80)}"`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // other comments are allowed
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      let f = families.get(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if (f?.type) throw new Error(`${where}: TYPE of ${name} given twice`);
        if (f && f.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        if (!f) families.set(name, (f = { name, type: rest, samples: [] }));
        else f.type = rest;
      } else {
        if (f?.help !== undefined) throw new Error(`${where}: HELP of ${name} given twice`);
        if (!f) families.set(name, (f = { name, type: '', samples: [] }));
        f.help = rest;
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: no value`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (line[nameEnd] === '{') ({ labels, end: rest } = parseLabels(line, nameEnd, where));
    const parts = line.slice(rest).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`${where}: expected "value [timestamp]"`);
    const value = parseValue(parts[0] ?? '', where);
    const f = familyOf(name, families);
    if (!f || !f.type) throw new Error(`${where}: sample of ${name} without a TYPE line`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`${where}: duplicate series`);
    seen.add(id);
    f.samples.push({ name, labels, value });
  });
  return families;
}

/** The value of one series, or undefined when absent. Labels must match exactly (all of them). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(s.labels);
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}

/** Every sample of a metric name. */
export function samplesOf(families: Map<string, Family>, name: string): Sample[] {
  return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === name));
}
