/**
 * The YAML side of configuration loading: parse with positions kept, interpolate `${ENV}` in string scalars,
 * and find the line:col of any path so that schema errors can point at the text the operator wrote.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { interpolateEnv } from './env.js';
import type { PathSegment } from './issues.js';

export interface Position { line: number; col: number }

export interface YamlSource {
  doc: Document;
  lineCounter: LineCounter;
  /** YAML syntax errors and ${ENV} errors, already positioned. */
  problems: { pos: Position; message: string; path: PathSegment[] }[];
  /** Values substituted from the environment: never to appear in messages. */
  secrets: string[];
  /** Scalars that contained `${NAME}`: their value is not written in the file. */
  fromEnv: WeakSet<Node>;
}

export function readYaml(text: string, env: NodeJS.ProcessEnv): YamlSource {
  const lineCounter = new LineCounter();
  // merge: true lets operators reuse check blocks with `<<: *default_check`.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const problems: YamlSource['problems'] = [];
  for (const err of doc.errors) {
    problems.push({ pos: lineCounter.linePos(err.pos[0]), message: `YAML: ${err.message.split('\n')[0] ?? err.message}`, path: [] });
  }
  const secrets: string[] = [];
  const fromEnv = new WeakSet<Node>();
  visit(doc, {
    Scalar(key, node, ancestry) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const r = interpolateEnv(node.value, env);
      if (!r.ok) {
        problems.push({ pos: nodePos(lineCounter, node), message: r.message, path: ancestryPath(ancestry, node) });
        return;
      }
      node.value = r.value;
      if (r.used.length > 0) fromEnv.add(node);
      // Short values would redact innocent text everywhere; a 1-2 character secret is no secret anyway.
      for (const name of r.used) {
        const v = env[name];
        if (v !== undefined && v.length >= 3) secrets.push(v);
      }
    },
  });
  return { doc, lineCounter, problems, secrets, fromEnv };
}

/**
 * The scalar written at `path` (following aliases), or undefined when the path leads elsewhere: a value merged
 * in with `<<`, inherited from a virtual server's check, or a default.
 */
export function scalarAt(src: Pick<YamlSource, 'doc'>, path: readonly PathSegment[]): Node | undefined {
  let node: unknown = src.doc.contents;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(src.doc);
    if (isMap(node)) {
      node = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))?.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return undefined;
    }
  }
  if (isAlias(node)) node = node.resolve(src.doc);
  return isScalar(node) ? node : undefined;
}

function nodePos(lc: LineCounter, node: Node): Position {
  return node.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
}

/** Path of a node from visit()'s ancestry (document, pairs, maps, sequences). */
function ancestryPath(ancestry: readonly unknown[], node: unknown): PathSegment[] {
  const path: PathSegment[] = [];
  const chain = [...ancestry, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (isMap(parent)) {
      const pair = child as { key?: unknown };
      if (isScalar(pair.key)) path.push(String(pair.key.value));
    }
  }
  return path;
}

/**
 * Position of `path`: the key itself when `atKey`, else its value; for a path that does not exist (a missing
 * key), the closest mapping or list that does.
 */
export function locate(src: Pick<YamlSource, 'doc' | 'lineCounter'>, path: readonly PathSegment[], atKey = false): Position {
  const { doc, lineCounter } = src;
  let node: unknown = doc.contents;
  if (!node) return { line: 1, col: 1 };
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isAlias(node)) node = node.resolve(doc) ?? node;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return nodePos(lineCounter, node);
      if ((last && atKey) || pair.value === null || pair.value === undefined) return nodePos(lineCounter, pair.key as Node);
      node = pair.value;
    } else if (isSeq(node)) {
      const item = typeof seg === 'number' ? node.items[seg] : undefined;
      if (!item) return nodePos(lineCounter, node);
      node = item;
    } else {
      break; // a scalar where a mapping was expected: point at the scalar
    }
  }
  return nodePos(lineCounter, node as Node);
}

/** Position of the first `<<` merge key, the usual culprit when the yaml package throws while resolving. */
export function firstMergeKey(src: Pick<YamlSource, 'doc' | 'lineCounter'>): Position {
  let pos: Position = { line: 1, col: 1 };
  visit(src.doc, {
    Pair(_key, pair) {
      // With merge enabled the key's value is a symbol; its source text is still `<<`.
      if (isScalar(pair.key) && pair.key.source === '<<') {
        pos = nodePos(src.lineCounter, pair.key);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return pos;
}
