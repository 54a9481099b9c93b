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

/**
 * Rearranges lists of named objects in the AST to the order they have in `after`, matching items by name: kept
 * items keep their node (and comments), new ones are created, dropped ones removed. fast-json-patch diffs arrays
 * index by index, so without this an item inserted at the front of a list (a proxy moved into initContainers)
 * would be a field-by-field rewrite of every later item, leaving each comment on the wrong item.
 */
function alignNamedItems(doc: Document, node: unknown, before: unknown, after: unknown): void {
  if (isMap(node) && isRecord(before) && isRecord(after)) {
    for (const pair of node.items) {
      const key = keyOf(pair)!;
      if (Object.hasOwn(before, key) && Object.hasOwn(after, key)) alignNamedItems(doc, pair.value, before[key], after[key]);
    }
    return;
  }
  if (!isSeq(node) || !Array.isArray(before) || !Array.isArray(after) || node.items.length !== before.length) return;
  const was = itemNames(before);
  const now = itemNames(after);
  if (was && now && was.join('\0') !== now.join('\0')) {
    const old = node.items;
    node.items = now.map((name, i) => (was.includes(name) ? old[was.indexOf(name)] : doc.createNode(after[i])));
    now.forEach((name, i) => was.includes(name) && alignNamedItems(doc, node.items[i], before[was.indexOf(name)], after[i]));
    return;
  }
  for (let i = 0; i < Math.min(before.length, after.length); i++) alignNamedItems(doc, node.items[i], before[i], after[i]);
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
