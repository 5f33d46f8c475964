/**
 * A gauge or counter family for label sets counted in tens of thousands (one per real server and state,
 * weight kind or check result), registered on the same prom-client registry as the others but rendered by
 * itself. prom-client hashes and validates every label object on each set() and re-formats and re-escapes
 * every series on each scrape; at 10,000 real servers that was seconds of blocked event loop per scrape.
 * Here each series keeps its rendered line (`name{labels} value`), re-rendered only when its value changes;
 * a scrape-time refresh marks the family, sets what is current and sweeps the rest (see refresh()), so
 * unchanged series cost a map lookup. The text is the same prom-client writes (label order: the label names
 * as declared, values escaped the same way, same number format).
 */
import { Registry, type Metric } from 'prom-client';

/** As prom-client formats a sample value. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(s: string): string {
  return /[\\\n"]/.test(s) ? escapeText(s).replace(/"/g, '\\"') : s;
}

type Labels<L extends string> = Partial<Record<L, string | number>>;

interface Series {
  /** The label values in labelNames order (undefined: left out). */
  values: readonly (string | number | undefined)[];
  /** `name{a="x",b="y"} ` */
  prefix: string;
  value: number;
  /** prefix + value, or undefined after the value changed. */
  line: string | undefined;
  /** The refresh generation that last set it. */
  gen: number;
}

/** Series indexed by their label values in declared order, one Map level per label (no joined key strings). */
type Level = Map<string | symbol, Level | Series>;

/** The key of a label left out of a label set. */
const UNSET = Symbol('unset');

export interface SeriesTableOptions<L extends string> {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames: readonly L[];
  registers: Registry[];
}

export class SeriesTable<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum' as const;
  /** Run before each scrape renders the family (set with registry.ts setCollect). */
  collect?: () => void | Promise<void>;
  private root: Level = new Map();
  /** The labels of the path to a level, rendered (`a="x",b="y"`): a new series renders only its last label. */
  private readonly rendered = new WeakMap<Level, string>();
  private gen = 0;
  /** The last rendered text while no series was added, removed or changed since. */
  private text: string | undefined;

  constructor(opts: SeriesTableOptions<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.type = opts.type;
    this.labelNames = opts.labelNames;
    if (this.labelNames.length === 0) throw new Error(`${this.name}: a SeriesTable needs at least one label`);
    for (const r of opts.registers) r.registerMetric(this as unknown as Metric);
  }

  private static keyOf(v: string | number | undefined): string | symbol {
    return v === undefined ? UNSET : typeof v === 'string' ? v : `${v}`;
  }

  private part(i: number, v: string | number | undefined, before: string): string {
    if (v === undefined) return before;
    const text = `${this.labelNames[i]}="${typeof v === 'string' ? escapeLabelValue(v) : v}"`;
    return before ? `${before},${text}` : text;
  }

  /** The series of these label values (in labelNames order), created when absent. */
  private entry(values: readonly (string | number | undefined)[]): Series {
    let level = this.root;
    let text = '';
    const last = this.labelNames.length - 1;
    for (let i = 0; i < last; i++) {
      const k = SeriesTable.keyOf(values[i]);
      let next = level.get(k) as Level | undefined;
      if (!next) {
        level.set(k, (next = new Map()));
        this.rendered.set(next, this.part(i, values[i], text));
      }
      text = this.rendered.get(next) ?? '';
      level = next;
    }
    const k = SeriesTable.keyOf(values[last]);
    let s = level.get(k) as Series | undefined;
    if (!s) {
      const labels = this.part(last, values[last], text);
      s = { values: values.slice(0, this.labelNames.length), prefix: `${this.name}${labels ? `{${labels}}` : ''} `, value: 0, line: undefined, gen: this.gen };
      level.set(k, s);
      this.text = undefined;
    }
    s.gen = this.gen;
    return s;
  }

  private valuesOf(labels: Labels<L>): (string | number | undefined)[] {
    return this.labelNames.map((n) => labels[n]);
  }

  set(labels: Labels<L>, value: number): void {
    this.setValues(this.valuesOf(labels), value);
  }

  /** set() with the label values in labelNames order (no label object: for loops over thousands). */
  setValues(values: readonly (string | number | undefined)[], value: number): void {
    const s = this.entry(values);
    const v = typeof value === 'number' ? value : 0;
    if (s.line === undefined || !Object.is(s.value, v)) {
      s.value = v;
      s.line = undefined;
      this.text = undefined;
    }
  }

  inc(labels: Labels<L> = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: it is not possible to decrease a counter (${by})`);
    const s = this.entry(this.valuesOf(labels));
    if (by !== 0 || s.line === undefined) {
      s.value += by;
      s.line = undefined;
      this.text = undefined;
    }
  }

  remove(labels: Labels<L>): void {
    const values = this.valuesOf(labels);
    const path: Level[] = [];
    let level: Level | undefined = this.root;
    for (let i = 0; i < values.length - 1 && level; i++) {
      path.push(level);
      level = level.get(SeriesTable.keyOf(values[i])) as Level | undefined;
    }
    if (!level?.delete(SeriesTable.keyOf(values[values.length - 1]))) return;
    this.text = undefined;
    // Drop the levels this emptied.
    for (let i = path.length - 1; i >= 0 && level.size === 0; i--) {
      const parent: Level = path[i] as Level;
      parent.delete(SeriesTable.keyOf(values[i]));
      level = parent;
    }
  }

  reset(): void {
    if (this.root.size > 0) this.text = undefined;
    this.root = new Map();
  }

  /**
   * Replace the family's series with what `fill` sets: series it does not set are removed, the others keep
   * their rendered line when their value did not change.
   */
  refresh(fill: () => void): void {
    this.gen++;
    try {
      fill();
    } finally {
      this.sweep(this.root, 0);
    }
  }

  private sweep(level: Level, depth: number): void {
    const leaf = depth === this.labelNames.length - 1;
    for (const [k, child] of level) {
      if (leaf) {
        if ((child as Series).gen !== this.gen) {
          level.delete(k);
          this.text = undefined;
        }
      } else {
        this.sweep(child as Level, depth + 1);
        if ((child as Level).size === 0) level.delete(k);
      }
    }
  }

  private *all(level: Level = this.root, depth = 0): Generator<Series> {
    const leaf = depth === this.labelNames.length - 1;
    for (const child of level.values()) {
      if (leaf) yield child as Series;
      else yield* this.all(child as Level, depth + 1);
    }
  }

  private labelsOf(s: Series): Labels<L> {
    const out: Labels<L> = {};
    this.labelNames.forEach((n, i) => {
      const v = s.values[i];
      if (v !== undefined) out[n] = v;
    });
    return out;
  }

  private async runCollect(): Promise<void> {
    const v = this.collect?.();
    if (v instanceof Promise) await v;
  }

  /** prom-client's shape (getMetricsAsJSON). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Labels<L>; value: number }[] }> {
    await this.runCollect();
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...this.all()].map((s) => ({ labels: this.labelsOf(s), value: s.value })),
    };
  }

  /** The family in the text format, as prom-client's registry writes one (no trailing newline). */
  async render(): Promise<string> {
    await this.runCollect();
    if (this.text !== undefined) return this.text;
    const lines = [`# HELP ${this.name} ${escapeText(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of this.all()) lines.push((s.line ??= s.prefix + valueText(s.value)));
    this.text = lines.join('\n');
    return this.text;
  }
}

/**
 * prom-client's registry, with SeriesTable families rendered by themselves and concurrent scrapes sharing one
 * collection (a second scraper arriving mid-scrape gets the same text instead of a second dump and render).
 */
export class LvskeepRegistry extends Registry {
  private pending: Promise<string> | undefined;

  /** Called by Registry.metrics() for each family (not in prom-client's typings). */
  getMetricsAsString(metric: unknown): Promise<string> {
    if (metric instanceof SeriesTable) return metric.render();
    const base = Registry.prototype as unknown as { getMetricsAsString(this: Registry, m: unknown): Promise<string> };
    return base.getMetricsAsString.call(this, metric);
  }

  override metrics(): Promise<string> {
    this.pending ??= super.metrics().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }
}
