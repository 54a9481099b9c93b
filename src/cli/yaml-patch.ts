import { isDeepStrictEqual } from 'node:util';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { atPointer } from '../engine/workload.js';
import { pointerSegments } from '../manifests/parse.js';

type Collection = YAMLMap<unknown, unknown> | YAMLSeq<unknown>;

const keyOf = (pair: unknown) => (isPair(pair) ? (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)) : undefined);

function pairIndex(map: YAMLMap<unknown, unknown>, key: string): number {
  return map.items.findIndex((p) => keyOf(p) === key);
}

/** The item of a collection, replacing an alias by a private copy so an edit never reaches the anchored node. */
function childOf(doc: Document, parent: Collection, key: string): unknown {
  const get = (): unknown => (isSeq(parent) ? parent.items[Number(key)] : parent.items[pairIndex(parent, key)]?.value);
  const set = (node: unknown) => {
    if (isSeq(parent)) parent.items[Number(key)] = node;
    else parent.items[pairIndex(parent, key)]!.value = node;
  };
  const node = get();
  if (!isAlias(node)) return node;
  const copy = (node.resolve(doc) as Node | undefined)?.clone() as (Node & { anchor?: string }) | undefined;
  if (!copy) throw new Error(`alias *${node.source} cannot be resolved`);
  delete copy.anchor;
  set(copy);
  return copy;
}

function collectionAt(doc: Document, segments: readonly string[]): Collection {
  let node: unknown = doc.contents;
  for (const key of segments) {
    if (!isMap(node) && !isSeq(node)) break;
    node = childOf(doc, node, key);
  }
  if (!isMap(node) && !isSeq(node)) throw new Error(`no mapping or sequence at /${segments.join('/')}`);
  return node;
}

/** A new node for `value`; a scalar of the same type keeps its node, so its comment and quoting stay. */
function nodeFor(doc: Document, old: unknown, value: unknown): unknown {
  if (isScalar(old) && value !== null && typeof value !== 'object' && typeof old.value === typeof value) {
    old.value = value;
    return old;
  }
  return doc.createNode(value);
}

/**
 * Applies JSON Patch `add`, `remove` and `replace` ops (what fast-json-patch's compare produces) to a parsed YAML
 * document in place, so comments, key order and formatting of everything the patch does not touch survive.
 * `prefix` is the pointer of the patched object inside the document (a List item).
 */
export function applyPatchToDocument(doc: Document, ops: readonly Operation[], prefix = ''): void {
  for (const op of ops) {
    const segments = pointerSegments(`${prefix}${op.path}`);
    const key = segments.at(-1);
    if (key === undefined) throw new Error('a patch of the whole document is not supported');
    const parent = collectionAt(doc, segments.slice(0, -1));
    if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace') throw new Error(`unsupported patch op '${op.op}'`);
    if (isSeq(parent)) {
      const index = key === '-' ? parent.items.length : Number(key);
      if (op.op === 'remove') parent.items.splice(index, 1);
      else if (op.op === 'add') parent.items.splice(index, 0, doc.createNode(op.value));
      else parent.items[index] = nodeFor(doc, childOf(doc, parent, key), op.value);
      continue;
    }
    const index = pairIndex(parent, key);
    if (op.op === 'remove') {
      if (index >= 0) parent.items.splice(index, 1);
    } else if (index >= 0) {
      parent.items[index]!.value = nodeFor(doc, childOf(doc, parent, key), op.value);
    } else {
      parent.add(doc.createPair(key, op.value));
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The names of a list of named objects (containers, env, ports, volumes); undefined unless each has a unique one. */
function itemNames(list: readonly unknown[]): string[] | undefined {
  const names = list.map((v) => (isRecord(v) && typeof v.name === 'string' ? v.name : undefined));
  return names.every((n) => n !== undefined) && new Set(names).size === names.length ? (names as string[]) : undefined;
}

interface Dropped {
  node: unknown;
  before: Record<string, unknown>;
}

/** Calls `visit` on every list of named items whose names change between `before` and `after`, and walks on. */
function walkNamedLists(
  node: unknown,
  before: unknown,
  after: unknown,
  visit: (seq: YAMLSeq<unknown>, before: unknown[], after: unknown[], was: string[], now: string[]) => void,
): void {
  if (isMap(node) && isRecord(before) && isRecord(after)) {
    for (const pair of [...node.items]) {
      const key = keyOf(pair)!;
      if (Object.hasOwn(before, key) && Object.hasOwn(after, key)) walkNamedLists(pair.value, before[key], after[key], visit);
    }
    return;
  }
  if (!isSeq(node) || !Array.isArray(before) || !Array.isArray(after) || node.items.length !== before.length) return;
  const was = itemNames(before);
  const now = itemNames(after);
  if (was && now && was.join('\0') !== now.join('\0')) {
    const kept = now.filter((name) => was.includes(name));
    const items = kept.map((name) => node.items[was.indexOf(name)]);
    visit(node, before, after, was, now);
    kept.forEach((name, i) => walkNamedLists(items[i], before[was.indexOf(name)], after[now.indexOf(name)], visit));
    return;
  }
  for (let i = 0; i < Math.min(before.length, after.length); i++) walkNamedLists(node.items[i], before[i], after[i], visit);
}

/**
 * Rearranges lists of named objects (containers, env, ports, volumes) in the AST to their order in `after`, by
 * name, so kept items keep their node and comments. fast-json-patch diffs arrays index by index: without this, an
 * item inserted at the front of a list would be a field-by-field rewrite of every later item, leaving each comment
 * on the wrong item. An item that leaves one list and turns up in another with only fields added (a proxy moved
 * from containers to initContainers) is moved as a node, comments and layout included.
 */
function alignNamedItems(doc: Document, root: unknown, before: unknown, after: unknown): void {
  const dropped = new Map<string, Dropped>();
  walkNamedLists(root, before, after, (seq, was, _now, wasNames, nowNames) =>
    wasNames.forEach((name, j) => !nowNames.includes(name) && dropped.set(name, { node: seq.items[j], before: was[j] as Record<string, unknown> })),
  );
  const moved = (value: unknown): unknown => {
    const d = isRecord(value) && typeof value.name === 'string' ? dropped.get(value.name) : undefined;
    if (!d || !Object.keys(d.before).every((k) => Object.hasOwn(value as object, k) && isDeepStrictEqual(d.before[k], (value as Record<string, unknown>)[k]))) {
      return doc.createNode(value);
    }
    dropped.delete((value as { name: string }).name);
    return d.node;
  };
  walkNamedLists(root, before, after, (seq, was, now, wasNames, nowNames) => {
    const old = seq.items;
    seq.items = nowNames.map((name, i) => (wasNames.includes(name) ? old[wasNames.indexOf(name)] : moved(now[i])));
  });
  // Lists that did not exist before (initContainers gaining the proxy).
  const addLists = (node: unknown, b: unknown, a: unknown): void => {
    if (!isMap(node) || !isRecord(b) || !isRecord(a)) return;
    for (const [key, value] of Object.entries(a)) {
      if (!Object.hasOwn(b, key)) {
        if (Array.isArray(value) && itemNames(value) && value.some((v) => dropped.has((v as { name: string }).name))) {
          const seq = doc.createNode([]) as YAMLSeq<unknown>;
          seq.items = value.map(moved);
          node.add(doc.createPair(key, seq));
        }
      } else {
        const pair = node.items[pairIndex(node, key)];
        addLists(pair?.value, b[key], value);
      }
    }
  };
  addLists(root, before, after);
}

/**
 * Edits the object at `pointer` in the document from `before` (its value as parsed) to `after` (the engine's fixed
 * object): lists of named items are aligned first, then the fast-json-patch diff is applied to the AST.
 */
export function patchDocumentTo(doc: Document, pointer: string, before: unknown, after: unknown): void {
  const segments = pointerSegments(pointer);
  const node = segments.length === 0 ? doc.contents : collectionAt(doc, segments);
  alignNamedItems(doc, node, before, after);
  applyPatchToDocument(doc, jsonpatch.compare(atPointer(doc.toJS(), pointer) as object, after as object), pointer);
}
