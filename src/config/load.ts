/**
 * Loading the configuration file: YAML -> ${ENV} -> zod schema -> cross-field rules, with every problem
 * reported at once as FILE:LINE:COL: path: message, sorted by position.
 */
import { statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { errnoCode, errorMessage } from '../util/errors.js';
import { configSchema } from './schema.js';
import { crossCheck } from './cross-check.js';
import { salvage } from './salvage.js';
import { collectWarnings } from './warnings.js';
import { exposureWarnings, type FileAccess } from './exposure.js';
import { compareIssues, explainZodIssues, formatPath, valueAt, type ConfigIssue, type PathIssue, type PathSegment } from './issues.js';
import { firstMergeKey, locate, readYaml, scalarAt, type YamlSource } from './source.js';
import type { LvskeepConfig } from './types.js';

export { formatIssue, type ConfigIssue } from './issues.js';
export { DEFAULT_CONFIG_PATH } from './schema.js';

export type ConfigResult =
  | {
      ok: true;
      config: LvskeepConfig;
      warnings: ConfigIssue[];
      /** Positions for problems found outside the loader (e.g. the host lacks something an instance needs). */
      place: (issues: readonly PathIssue[]) => ConfigIssue[];
    }
  | { ok: false; errors: ConfigIssue[] };

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : errorMessage(err);
    return { ok: false, errors: [{ file: path, line: 1, col: 1, path: '', message: `cannot read configuration: ${why}` }] };
  }
  let mode: number | undefined;
  try {
    mode = (await stat(path)).mode;
  } catch {
    mode = undefined; // read a moment ago; a file gone since then only loses the permission warnings
  }
  return parseConfigText(text, path, env, mode === undefined ? undefined : { mode, modeOf });
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
}

/**
 * `files`: the configuration file's mode and a way to stat secret files, for the warnings about secrets that
 * other users can read (src/config/exposure.ts); without it (text not from a file) they are not checked.
 */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, files?: Omit<FileAccess, 'isLiteral'>): ConfigResult {
  const src = readYaml(text, env);
  const place = (issues: readonly PathIssue[]): ConfigIssue[] =>
    issues.map((i) => ({ file, ...locate(src, i.path, i.atKey), path: formatPath(i.path), message: i.message }));

  const early: ConfigIssue[] = src.problems.map((p) => ({ file, ...p.pos, path: formatPath(p.path), message: p.message }));
  // Syntax errors leave the document half-read; schema errors on top of them would mostly be noise.
  if (src.doc.errors.length > 0) return { ok: false, errors: finish(early, src) };

  let data: unknown;
  try {
    data = src.doc.toJS() ?? {};
  } catch (err) {
    // The yaml package throws while resolving some constructs (e.g. `<<:` merging a non-mapping).
    return { ok: false, errors: finish([...early, { file, ...firstMergeKey(src), path: '', message: `YAML: ${errorMessage(err)}` }], src) };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, errors: finish([...early, { file, line: 1, col: 1, path: '', message: 'the configuration must be a mapping of sections (global, vrrp, virtual_servers, ...)' }], src) };
  }

  const { config, issues } = validate(data as Record<string, unknown>);
  let errors = place(issues);
  // A failed ${VAR} leaves the literal text behind; do not also complain about that text.
  const envSpots = new Set(early.map((e) => `${e.line}:${e.col}`));
  errors = [...early, ...errors.filter((e) => !envSpots.has(`${e.line}:${e.col}`))];
  if (errors.length > 0 || !config) return { ok: false, errors: finish(errors, src) };
  const warnings = collectWarnings(config);
  if (files) {
    const isLiteral = (path: PathSegment[]): boolean => {
      const node = scalarAt(src, path);
      return node !== undefined && !src.fromEnv.has(node);
    };
    warnings.push(...exposureWarnings(config, file, { ...files, isLiteral }));
  }
  return { ok: true, config, warnings: finish(place(warnings), src), place: (issues) => finish(place(issues), src) };
}

/**
 * Schema + cross-field rules. zod skips an object's own rules (and our cross-item rules) while any of its fields
 * is invalid, which would make operators fix errors in rounds. So on failure we repair a copy (drop the keys that
 * were reported: unknown keys, bad values fall back to defaults) and validate again, a few times, keeping only
 * issues that are not about something we removed.
 */
function validate(data: Record<string, unknown>): { config?: LvskeepConfig; issues: PathIssue[] } {
  const first = configSchema.safeParse(data);
  if (first.success) return { config: first.data, issues: crossCheck(first.data) };

  const issues: PathIssue[] = [];
  const seen = new Set<string>();
  const removed: string[] = [];
  // Objects that lost a key: their own whole-object complaints ("needs url") may only be about that loss.
  const trimmed = new Set<string>();
  const isRemoved = (path: PathSegment[]): boolean => {
    const p = formatPath(path);
    return trimmed.has(p) || removed.some((r) => p === r || p.startsWith(`${r}.`) || p.startsWith(`${r}[`));
  };
  const add = (list: PathIssue[]): void => {
    for (const i of list) {
      const key = `${formatPath(i.path)}\u0000${i.message}`;
      if (seen.has(key) || isRemoved(i.path)) continue;
      seen.add(key);
      issues.push(i);
    }
  };

  const work: unknown = structuredClone(data);
  let round: PathIssue[] = explainZodIssues(configSchema, work, first.error.issues);
  add(round);
  for (let attempt = 0; attempt < 5; attempt++) {
    let changed = false;
    for (const i of round) {
      if (!i.rule && removeAt(work, i.path)) {
        removed.push(formatPath(i.path));
        trimmed.add(formatPath(i.path.slice(0, -1)));
        changed = true;
      }
    }
    if (!changed) break;
    const again = configSchema.safeParse(work);
    if (again.success) {
      add(crossCheck(again.data));
      return { issues };
    }
    round = explainZodIssues(configSchema, work, again.error.issues);
    add(round);
  }
  add(crossCheck(salvage(work as Record<string, unknown>)));
  return { issues };
}

/** Delete the mapping key at `path` (not list items: that would shift every later index). */
function removeAt(data: unknown, path: readonly PathSegment[]): boolean {
  const last = path[path.length - 1];
  if (typeof last !== 'string') return false;
  const parent = valueAt(data, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object' || Array.isArray(parent) || !Object.prototype.hasOwnProperty.call(parent, last)) return false;
  delete (parent as Record<string, unknown>)[last];
  return true;
}

/** Sort, drop repeats, and blank out any value that came from the environment. */
function finish(issues: ConfigIssue[], src: YamlSource): ConfigIssue[] {
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const i of [...issues].sort(compareIssues)) {
    const key = `${i.line}:${i.col}:${i.path}:${i.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let message = i.message;
    for (const s of src.secrets) message = message.split(s).join('***');
    out.push({ ...i, message });
  }
  return out;
}

