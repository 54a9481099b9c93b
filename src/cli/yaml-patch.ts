import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { pointerSegments } from '../manifests/parse.js';
import { blockLines, blockTail, flowText, inlineKey, inlineScalar, jsonText, type JsonStyle, type RenderStyle, type ScalarStyle } from './yaml-render.js';

/**
 * Edits YAML (or JSON) source text so that it reads as a new value, by splicing text at the ranges of the parsed
 * document's nodes: every line the change does not reach stays byte for byte (indentation, flow style, quotes,
 * comments, line ends). The change is the difference between the value as parsed and the wanted value:
 * - a changed scalar is replaced where it stands, in its quoting style, its comment kept;
 * - a key or item added to a block collection gets new lines after the last entry, at the entries' column; in a
 *   flow collection (JSON included) it is inserted after the last entry, on the same line when the collection is
 *   on one line, in JSON syntax when its keys are quoted;
 * - a removed key or item loses its lines (in flow style, its text and one comma);
 * - lists of uniquely named items (containers, env, ports, volumes) are matched by name, so an item inserted in
 *   front does not rewrite the others; an item that leaves one list for another with only fields added (a proxy
 *   moved from containers to initContainers) is moved as its own text, comments included, and re-indented;
 * - an alias is never edited through: it is replaced by the new value, and an anchored node that changes first
 *   has every alias to it elsewhere written out with its old value.
 */

type Collection = YAMLMap<unknown, unknown> | YAMLSeq<unknown>;
type Json = unknown;

interface TextEdit {
  start: number;
  end: number;
  text: string;
  /** Order among edits at one position. */
  seq: number;
  /** Dropped when a real edit overlaps it (an alias written out that a fix replaces anyway). */
  weak?: boolean;
}

interface Where {
  parent: Collection | undefined;
  pair?: Pair<unknown, unknown>;
  index: number;
}

interface Dropped {
  node: unknown;
  seq: YAMLSeq<unknown>;
  index: number;
  before: Record<string, Json>;
}

/** A case this editor cannot write without touching more than the change; the caller reports it. */
export class UnsupportedEdit extends Error {}

const isRecord = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyOf = (pair: unknown) => (isPair(pair) ? (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)) : undefined);
/** A `<<: *defaults` entry: with YAML 1.1 merge keys, its key reads as a symbol. */
const isMergePair = (pair: unknown) =>
  isPair(pair) && isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.value.description === '<<';
const rangeOf = (node: unknown): [number, number, number] => {
  const r = (node as Node | null)?.range;
  if (!r) throw new UnsupportedEdit('a node without a position');
  return r;
};

/** The names of a list of named objects; undefined unless each has a unique one. */
function itemNames(list: readonly Json[]): string[] | undefined {
  const names = list.map((v) => (isRecord(v) && typeof v.name === 'string' ? v.name : undefined));
  return names.every((n) => n !== undefined) && new Set(names).size === names.length ? (names as string[]) : undefined;
}

/** Indices (into `xs`) of a longest strictly increasing subsequence. */
function increasingRun(xs: readonly number[]): Set<number> {
  const tails: number[] = [];
  const prev: number[] = new Array(xs.length).fill(-1);
  xs.forEach((x, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[tails[mid]!]! < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1]!;
    tails[lo] = i;
  });
  const run = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i >= 0; i = prev[i]!) run.add(i);
  return run;
}

/**
 * Pairs of indices of equal items, in order, as many as a longest common subsequence gives. Lists too long for
 * the quadratic table keep only their common ends.
 */
function equalItems(before: readonly Json[], after: readonly Json[]): Array<readonly [number, number]> {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && isDeepStrictEqual(before[prefix], after[prefix])) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < after.length - prefix && isDeepStrictEqual(before.at(-1 - suffix), after.at(-1 - suffix))) suffix++;
  const pairs: Array<readonly [number, number]> = [];
  for (let i = 0; i < prefix; i++) pairs.push([i, i]);
  const n = before.length - prefix - suffix;
  const m = after.length - prefix - suffix;
  if (n > 0 && m > 0 && n * m <= 250_000) {
    const keys = (xs: readonly Json[], from: number, count: number) => xs.slice(from, from + count).map((x) => JSON.stringify(x));
    const bs = keys(before, prefix, n);
    const as = keys(after, prefix, m);
    const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i]![j] = bs[i] === as[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
      }
    }
    for (let i = 0, j = 0; i < n && j < m; ) {
      if (bs[i] === as[j]) pairs.push([prefix + i++, prefix + j++]);
      else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
      else j++;
    }
  }
  for (let k = suffix; k > 0; k--) pairs.push([before.length - k, after.length - k]);
  return pairs;
}

/** How alike two values are: the number of equal entries of two mappings, 0 otherwise. */
function likeness(x: Json, y: Json): number {
  if (!isRecord(x) || !isRecord(y)) return 0;
  return Object.keys(x).filter((k) => Object.hasOwn(y, k) && isDeepStrictEqual(x[k], y[k])).length;
}

/**
 * An alignment of before[b0, b1) with after[a0, a1) in order: [i, j] pairs to change in place, [undefined, j]
 * to insert, [i, undefined] to remove. Pairs maximise likeness; any pair beats none, so lists of equal length
 * change item by item. Long gaps pair by position.
 */
function alikeItems(before: readonly Json[], b0: number, b1: number, after: readonly Json[], a0: number, a1: number): Array<[number | undefined, number | undefined]> {
  const n = b1 - b0;
  const m = a1 - a0;
  const out: Array<[number | undefined, number | undefined]> = [];
  if (n * m > 10_000) {
    for (let k = 0; k < Math.max(n, m); k++) out.push([k < n ? b0 + k : undefined, k < m ? a0 + k : undefined]);
    return out;
  }
  const score = Array.from({ length: n + 1 }, () => new Float64Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      score[i]![j] = Math.max(score[i + 1]![j]!, score[i]![j + 1]!, 1 + likeness(before[b0 + i], after[a0 + j]) + score[i + 1]![j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && score[i]![j] === 1 + likeness(before[b0 + i], after[a0 + j]) + score[i + 1]![j + 1]!) out.push([b0 + i++, a0 + j++]);
    else if (i < n && (j >= m || score[i]![j] === score[i + 1]![j])) out.push([b0 + i++, undefined]);
    else out.push([undefined, a0 + j++]);
  }
  return out;
}

/** Every key of `before` has the same value in `after`: `after` is `before` with fields added or changed. */
const extends_ = (before: Record<string, Json>, after: Json) =>
  isRecord(after) && Object.keys(before).every((k) => Object.hasOwn(after, k) && isDeepStrictEqual(before[k], after[k]));

class TextPatcher {
  readonly edits: TextEdit[] = [];
  private readonly deferred: Array<() => void> = [];
  constructor(
    private readonly shared: Shared,
    private readonly root?: TextPatcher,
  ) {}

  private get text() {
    return this.shared.text;
  }

  private edit(start: number, end: number, text: string, weak = false): void {
    const target = weak && this.root ? this.root : this;
    target.edits.push({ start, end, text, seq: this.shared.counter++, ...(weak ? { weak } : {}) });
  }

  /** Runs the additions, which may take text from items removed anywhere in the object. */
  finish(): void {
    while (this.deferred.length) this.deferred.shift()!();
  }

  // ---- text positions

  private lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  /** Just after the line break ending the line `pos` is on; `pos` itself when it starts a line. */
  private lineEnd(pos: number): number {
    if (pos > 0 && this.text[pos - 1] === '\n') return pos;
    const nl = this.text.indexOf('\n', pos);
    return nl < 0 ? this.text.length : nl + 1;
  }

  private column(pos: number): number {
    return pos - this.lineStart(pos);
  }

  private firstOnLine(pos: number): boolean {
    return /^[ \t]*$/.test(this.text.slice(this.lineStart(pos), pos));
  }

  private isFlow(node: Collection): boolean {
    return Boolean(node.flow) || this.text[rangeOf(node)[0]] === '{' || this.text[rangeOf(node)[0]] === '[';
  }

  private multiLine(node: Collection): boolean {
    const [start, end] = rangeOf(node);
    return this.text.slice(start, end).includes('\n');
  }

  /** Where a block sequence item's dash is. */
  private dash(seq: YAMLSeq<unknown>, index: number): number {
    const token = (seq as { srcToken?: { type: string; items: Array<{ start: Array<{ type: string; offset: number }> }> } }).srcToken;
    // The source tokens of a block sequence: one item per dash (comment lines may make items without one).
    const dashes = token?.type === 'block-seq' ? token.items.flatMap((item) => item.start.filter((t) => t.type === 'seq-item-ind')) : [];
    if (dashes.length !== seq.items.length || !dashes[index]) throw new UnsupportedEdit('a block sequence item without its dash');
    return dashes[index].offset;
  }

  /** Start of a map entry (its key) or of a sequence item. */
  private entryStart(node: Collection, index: number): number {
    const item = node.items[index];
    return rangeOf(isPair(item) ? item.key : item)[0];
  }

  /** End of a map entry's value or of a sequence item, before any comment. */
  private entryEnd(node: Collection, index: number): number {
    const item = node.items[index];
    if (isPair(item)) return rangeOf(item.value ?? item.key)[1];
    return rangeOf(item)[1];
  }

  // ---- JSON

  private jsonStyle(node: Collection): JsonStyle | undefined {
    if (!this.shared.json && !(isMap(node) && node.items.length > 0 && node.items.every((p) => isScalar(p.key) && p.key.type === 'QUOTE_DOUBLE'))) {
      return undefined;
    }
    const pretty = this.multiLine(node) ? this.shared.jsonIndent : undefined;
    return { colon: this.shared.jsonColon, comma: this.shared.jsonComma, ...(pretty !== undefined ? { indent: pretty } : {}) };
  }

  /** A value written inside a flow collection. */
  private flowValue(node: Collection, value: Json, at: number): string {
    const json = this.jsonStyle(node);
    if (json) return jsonText(value, json, ' '.repeat(this.indentOfLine(at)), this.shared.style.eol);
    return flowText(value, this.shared.style.flowPadding);
  }

  /** A position in the collection to take indentation from: its first entry, or its bracket when empty. */
  private anchorPos(node: Collection): number {
    return node.items.length ? this.entryStart(node, 0) : rangeOf(node)[0];
  }

  private indentOfLine(pos: number): number {
    const start = this.lineStart(pos);
    return /^[ \t]*/.exec(this.text.slice(start))![0].length;
  }

  // ---- the difference

  /** Makes `node` (whose value is `before`) read as `after`. */
  diff(node: unknown, before: Json, after: Json): void {
    if (isDeepStrictEqual(before, after)) return;
    if (isAlias(node)) return this.replace(node, after);
    this.writeOutAliases(node, before);
    if (isMap(node) && isRecord(before) && isRecord(after)) return this.diffMap(node, before, after);
    if (isSeq(node) && Array.isArray(before) && Array.isArray(after)) return this.diffSeq(node, before, after);
    this.replace(node, after);
  }

  /** An anchored node about to change: every alias to it elsewhere gets its old value written out. */
  private writeOutAliases(node: unknown, before: Json): void {
    const aliases = this.shared.aliases.get(node as Node);
    if (!aliases || this.shared.writtenOut.has(node as Node)) return;
    this.shared.writtenOut.add(node as Node);
    for (const alias of aliases) this.replace(alias, before, true);
  }

  private diffMap(map: YAMLMap<unknown, unknown>, before: Record<string, Json>, after: Record<string, Json>): void {
    if (Object.keys(after).length === 0 && !map.items.some(isMergePair)) return this.replace(map, after);
    const pairOf = (key: string) => map.items.findLast((p) => !isMergePair(p) && keyOf(p) === key);
    const added: Array<[string, Json]> = [];
    const removed = new Set<number>();
    for (const key of Object.keys(before)) {
      if (Object.hasOwn(after, key)) continue;
      if (!pairOf(key)) throw new UnsupportedEdit(`'${key}' comes from a merge key and cannot be removed`);
      map.items.forEach((p, i) => !isMergePair(p) && keyOf(p) === key && removed.add(i));
    }
    for (const [key, value] of Object.entries(after)) {
      const pair = Object.hasOwn(before, key) ? pairOf(key) : undefined;
      if (pair) this.diff(pair.value, before[key], value);
      else if (!Object.hasOwn(before, key) || !isDeepStrictEqual(before[key], value)) added.push([key, value]);
    }
    if (removed.size > 0 && removed.size === map.items.length) return this.replace(map, after);
    this.removeEntries(map, removed);
    if (added.length) this.deferred.push(() => this.addPairs(map, added, removed));
  }

  private diffSeq(seq: YAMLSeq<unknown>, before: Json[], after: Json[]): void {
    if (after.length === 0) {
      before.forEach((value, j) => this.drop(seq, j, value));
      return this.replace(seq, after);
    }
    const was = itemNames(before);
    const now = itemNames(after);
    const removed = new Set<number>();
    // Insertions: values to put before the original item at `at` (or after the last one when at === length).
    const inserts: Array<{ at: number; values: Json[] }> = [];
    if (was && now && was.join('\0') !== now.join('\0')) {
      const sources = now.map((name) => was.indexOf(name));
      const keptPositions = sources.map((s, i) => (s >= 0 ? i : -1)).filter((i) => i >= 0);
      const stable = increasingRun(keptPositions.map((i) => sources[i]!));
      const stays = new Set([...stable].map((k) => keptPositions[k]!));
      const staying = new Set([...stays].map((i) => sources[i]!));
      before.forEach((value, j) => {
        if (staying.has(j)) return;
        removed.add(j);
        this.drop(seq, j, value);
      });
      let pending: Json[] = [];
      after.forEach((value, i) => {
        if (!stays.has(i)) {
          pending.push(value);
          return;
        }
        if (pending.length) inserts.push({ at: sources[i]!, values: pending });
        pending = [];
        this.diff(seq.items[sources[i]!], before[sources[i]!], value);
      });
      if (pending.length) inserts.push({ at: before.length, values: pending });
    } else {
      // Items equal on both sides stay; between two such, the most alike items are changed in place, the
      // others removed or inserted.
      const matches = [...equalItems(before, after), [before.length, after.length] as const];
      let b = 0;
      let a = 0;
      for (const [mb, ma] of matches) {
        let pending: Json[] = [];
        for (const [i, j] of alikeItems(before, b, mb, after, a, ma)) {
          if (i === undefined) pending.push(after[j!]);
          else if (j === undefined) removed.add(i);
          else {
            if (pending.length) inserts.push({ at: i, values: pending });
            pending = [];
            this.diff(seq.items[i], before[i], after[j]);
          }
        }
        if (pending.length) inserts.push({ at: mb, values: pending });
        b = mb + 1;
        a = ma + 1;
      }
      for (const j of removed) this.drop(seq, j, before[j]);
    }
    // Nothing stays: the list is written anew (its old items may still be moved elsewhere).
    if (removed.size > 0 && removed.size === seq.items.length) return this.replace(seq, after);
    this.removeEntries(seq, removed);
    for (const insert of inserts) this.deferred.push(() => this.insertItems(seq, insert.at, insert.values, removed));
  }

  /** Keeps a removed named item at hand: another list may take it (moved as its text). */
  private drop(seq: YAMLSeq<unknown>, index: number, value: Json): void {
    if (!isRecord(value) || typeof value.name !== 'string') return;
    const list = this.shared.dropped.get(value.name) ?? [];
    list.push({ node: seq.items[index], seq, index, before: value });
    this.shared.dropped.set(value.name, list);
  }

  // ---- replacing a value

  private whereIs(node: unknown): Where {
    const where = this.shared.parents.get(node as Node);
    if (!where) throw new UnsupportedEdit('a node outside the document');
    return where;
  }

  /** Replaces the text of `node` with `value`, written to fit where the node stands. */
  private replace(node: unknown, value: Json, weak = false): void {
    const { parent, pair } = this.whereIs(node);
    const [start, valueEnd] = rangeOf(node);
    const scalarValue = value === null || typeof value !== 'object';
    const style = isScalar(node) && typeof node.type === 'string' && ['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'].includes(node.type) ? (node.type as ScalarStyle) : undefined;
    if (parent && this.isFlow(parent)) {
      const json = this.jsonStyle(parent);
      const text = scalarValue && !json ? inlineScalar(value, true, style) : this.flowValue(parent, value, start);
      return this.edit(start, valueEnd, text, weak);
    }
    if (!parent) throw new UnsupportedEdit('the document root cannot be replaced');
    if (scalarValue && style && start < valueEnd) return this.edit(start, valueEnd, inlineScalar(value, false, style), weak);
    // An alias to a flow collection is written out in flow style, as its anchor reads.
    const target = isAlias(node) ? node.resolve(this.shared.doc) : undefined;
    if (!scalarValue && (isMap(target) || isSeq(target)) && this.isFlow(target) && !this.multiLine(target)) {
      return this.edit(start, valueEnd, flowText(value, this.shared.style.flowPadding), weak);
    }
    // Block context: rewrite what follows `key:` or `-`.
    const indicator = pair ? this.colonAfter(rangeOf(pair.key)[1]) : this.dash(parent as YAMLSeq<unknown>, this.whereIs(node).index);
    const column = pair ? this.column(rangeOf(pair.key)[0]) : this.column(indicator);
    let text = blockTail(value, column, this.shared.style, !pair);
    const endsLine = valueEnd > 0 && this.text[valueEnd - 1] === '\n';
    if (endsLine) text += this.shared.style.eol;
    this.edit(indicator + 1, valueEnd, text, weak);
  }

  private colonAfter(pos: number): number {
    const m = /^[ \t]*:/.exec(this.text.slice(pos, pos + 200));
    if (!m) throw new UnsupportedEdit('a key without its colon');
    return pos + m[0].length - 1;
  }

  // ---- removing entries

  private removeEntries(node: Collection, removed: ReadonlySet<number>): void {
    if (removed.size === 0) return;
    const n = node.items.length;
    if (this.isFlow(node)) {
      // Runs of removed entries: up to the next entry's start, or (at the end) from the previous entry's end.
      for (let a = 0; a < n; a++) {
        if (!removed.has(a)) continue;
        let b = a;
        while (b + 1 < n && removed.has(b + 1)) b++;
        const end = this.entryEnd(node, b);
        const restOfLine = this.text.slice(end, this.lineEnd(end));
        if (this.firstOnLine(this.entryStart(node, a)) && /^\s*,?\s*(#.*)?\r?\n$/.test(restOfLine) && (a > 0 || b + 1 < n)) {
          // Entries on lines of their own (a list over several lines): their lines go, comments included; the
          // last entry's removal takes the comma of the entry before it, unless the list ends with a comma.
          this.edit(this.lineStart(this.entryStart(node, a)), this.lineEnd(end), '');
          if (b + 1 === n && !/^\s*,/.test(restOfLine)) {
            const comma = this.text.indexOf(',', this.entryEnd(node, a - 1));
            this.edit(comma, comma + 1, '');
          }
        } else if (b + 1 < n) this.edit(this.entryStart(node, a), this.entryStart(node, b + 1), '');
        else if (a > 0) this.edit(this.entryEnd(node, a - 1), this.entryEnd(node, b), '');
        else this.edit(this.entryStart(node, 0), this.entryEnd(node, n - 1), '');
        a = b;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      if (!removed.has(i)) continue;
      const start = isSeq(node) ? this.dash(node, i) : this.entryStart(node, i);
      if (!this.firstOnLine(start)) {
        // `- name: x` losing its first keys: the next key that stays moves up behind the dash.
        let next = i + 1;
        while (next < n && removed.has(next)) next++;
        if (!isMap(node) || next >= n) throw new UnsupportedEdit('an entry that shares its line with another');
        this.edit(start, this.entryStart(node, next), '');
        i = next - 1;
        continue;
      }
      this.edit(isSeq(node) ? this.itemTop(node, i) : this.lineStart(start), this.lineEnd(this.entryEnd(node, i)), '');
    }
  }

  /** Start of a block sequence item's lines: its dash's line, or the comment lines right above it at its column. */
  private itemTop(seq: YAMLSeq<unknown>, index: number): number {
    const dash = this.dash(seq, index);
    let top = this.lineStart(dash);
    if (index === 0) return top;
    const floor = this.lineEnd(this.entryEnd(seq, index - 1));
    const column = this.column(dash);
    while (top > floor) {
      const above = this.lineStart(top - 1);
      const line = this.text.slice(above, top);
      if (!new RegExp(`^ {${column}}#`).test(line)) break;
      top = above;
    }
    return top;
  }

  // ---- adding entries

  /** Index of the last entry that stays, before `limit`. */
  private lastKept(node: Collection, removed: ReadonlySet<number>, limit = node.items.length): number {
    for (let i = limit - 1; i >= 0; i--) if (!removed.has(i)) return i;
    return -1;
  }

  private addPairs(map: YAMLMap<unknown, unknown>, entries: Array<[string, Json]>, removed: ReadonlySet<number>): void {
    const last = this.lastKept(map, removed);
    // A list made of items moved from a sibling list goes right after it (initContainers after containers), so
    // the moved lines stay where they were; anything else after the last key.
    const after = (v: Json) => {
      const moved = Array.isArray(v) ? v.map((item) => this.movable(item)).find(Boolean) : undefined;
      const sibling = moved ? map.items.findIndex((p) => p.value === moved.seq) : -1;
      return sibling >= 0 && !removed.has(sibling) ? sibling : last;
    };
    if (this.isFlow(map)) {
      const json = this.jsonStyle(map);
      const groups = new Map<number, string[]>();
      for (const [k, v] of entries) {
        const key = json ? jsonText(k, json) : inlineKey(k, true);
        const at = after(v);
        groups.set(at, [...(groups.get(at) ?? []), `${key}${json ? json.colon : ': '}${this.flowItemText(map, v)}`]);
      }
      for (const [at, texts] of groups) this.insertFlow(map, at, texts);
      return;
    }
    if (last < 0) throw new UnsupportedEdit('a block mapping that loses every key');
    const column = this.column(this.entryStart(map, 0));
    for (const [k, v] of entries) this.insertLines(this.lineEnd(this.entryEnd(map, after(v))), this.pairLines(k, v, column));
  }

  /** Lines of `key: value` at `column`; a list that takes items moved from another list keeps their text. */
  private pairLines(key: string, value: Json, column: number): string[] {
    const moved = Array.isArray(value) ? value.map((v) => this.movable(v)).find((d) => d && !this.isFlow(d.seq)) : undefined;
    if (Array.isArray(value) && moved) {
      // The new list is indented as the list the items come from is under its key.
      const from = this.whereIs(moved.seq).pair;
      const { indentSeq, indent } = this.shared.style;
      const offset = from ? this.column(this.dash(moved.seq, 0)) - this.column(rangeOf(from.key)[0]) : indentSeq ? indent : 0;
      const dashColumn = column + offset;
      const gap = this.gapOf(moved.seq);
      return [`${' '.repeat(column)}${inlineKey(key, false)}:`, ...value.flatMap((v) => this.itemLines(v, dashColumn, gap))];
    }
    return blockLines({ [key]: value }, column, this.shared.style);
  }

  private insertItems(seq: YAMLSeq<unknown>, at: number, values: Json[], removed: ReadonlySet<number>): void {
    if (this.isFlow(seq)) {
      const texts = values.map((v) => this.flowItemText(seq, v));
      const next = seq.items.findIndex((_, i) => i >= at && !removed.has(i));
      if (next >= 0) {
        const start = this.entryStart(seq, next);
        const gap = this.itemGap(seq);
        return this.edit(start, start, texts.map((t) => `${t},${gap}`).join(''));
      }
      return this.insertFlow(seq, this.lastKept(seq, removed), texts);
    }
    const column = this.column(this.dash(seq, 0));
    // A list whose items are all flow mappings on one line (`- {name: A, value: "1"}`) gets its new items so.
    const flowItems = seq.items.every((item) => isMap(item) && item.flow && !this.multiLine(item));
    const lines = values.flatMap((v) => this.itemLines(v, column, this.gapOf(seq), flowItems));
    const previous = this.lastKept(seq, removed, at);
    if (previous >= 0) return this.insertLines(this.lineEnd(this.entryEnd(seq, previous)), lines);
    const next = seq.items.findIndex((_, i) => i >= at && !removed.has(i));
    if (next < 0) throw new UnsupportedEdit('a block sequence that loses every item');
    this.insertLines(this.itemTop(seq, next), lines);
  }

  private insertLines(at: number, lines: string[]): void {
    const { eol } = this.shared.style;
    if (at === this.text.length && at > 0 && this.text[at - 1] !== '\n') this.edit(at, at, `${eol}${lines.join(eol)}`);
    else this.edit(at, at, `${lines.join(eol)}${eol}`);
  }

  /** The whitespace after a comma between two entries of a flow collection. */
  private itemGap(node: Collection): string {
    const n = node.items.length;
    if (n >= 2) {
      const between = this.text.slice(this.entryEnd(node, n - 2), this.entryStart(node, n - 1));
      const nl = between.lastIndexOf('\n');
      if (nl >= 0) return `${this.shared.style.eol}${between.slice(nl + 1)}`;
      const m = /^\s*,(\s*)$/.exec(between);
      if (m) return m[1]!;
    }
    if (this.multiLine(node) && n >= 1) return `${this.shared.style.eol}${' '.repeat(this.column(this.entryStart(node, 0)))}`;
    return this.jsonStyle(node)?.comma === ',' ? '' : ' ';
  }

  /** Inserts entry texts after entry `last` of a flow collection (or fills an empty one). */
  private insertFlow(node: Collection, last: number, texts: string[]): void {
    if (last < 0) {
      // Nothing stays: the collection is written anew from its open bracket to its close.
      const [start, end] = rangeOf(node);
      const pad = this.jsonStyle(node) || !this.shared.style.flowPadding ? '' : ' ';
      const open = this.text[start]!;
      const close = open === '{' ? '}' : ']';
      return this.edit(start, end, `${open}${pad}${texts.join(`,${this.itemGap(node) || (pad ? ' ' : '')}`)}${pad}${close}`);
    }
    const end = this.entryEnd(node, last);
    const gap = this.itemGap(node);
    const rest = this.text.slice(end, rangeOf(node)[1]);
    const trailingComma = last === node.items.length - 1 && /^\s*,/.test(rest);
    if (trailingComma) {
      const comma = end + rest.indexOf(',') + 1;
      return this.edit(comma, comma, texts.map((t) => `${gap}${t},`).join(''));
    }
    this.edit(end, end, texts.map((t) => `,${gap}${t}`).join(''));
  }

  // ---- items, moved or new

  private movable(value: Json): Dropped | undefined {
    if (!isRecord(value) || typeof value.name !== 'string') return undefined;
    return this.shared.dropped.get(value.name)?.find((d) => extends_(d.before, value));
  }

  private take(d: Dropped): void {
    const list = this.shared.dropped.get(d.before.name as string)!;
    list.splice(list.indexOf(d), 1);
  }

  /** The text of a removed item with the changes that make it `value`, from `start` to `end` of the source. */
  private movedText(d: Dropped, value: Json, start: number, end: number): string {
    const sub = new TextPatcher(this.shared, this.root ?? this);
    sub.diff(d.node, d.before, value);
    sub.finish();
    return applyEdits(this.text, sub.edits, start, end);
  }

  /** Spaces between the dash and the first item of a block sequence (`-   name: web`), when on one line. */
  private gapOf(seq: YAMLSeq<unknown>): number {
    const dash = this.dash(seq, 0);
    const m = /^-( +)\S/.exec(this.text.slice(dash, dash + 40));
    return m ? m[1]!.length : this.shared.style.seqGap;
  }

  /** Lines of a block sequence item at dash column `column`: a moved item keeps its text, re-indented. */
  private itemLines(value: Json, column: number, gap = this.shared.style.seqGap, flowItems = false): string[] {
    const d = this.movable(value);
    if (d && !this.isFlow(d.seq)) {
      const dash = this.dash(d.seq, d.index);
      if (this.firstOnLine(dash)) {
        this.take(d);
        const text = this.movedText(d, value, this.itemTop(d.seq, d.index), this.lineEnd(this.entryEnd(d.seq, d.index)));
        return reindent(text.replace(/\r?\n$/, '').split(/\r?\n/), column - this.column(dash));
      }
    }
    if (d) {
      const [start, end] = rangeOf(d.node);
      const text = this.movedText(d, value, start, end);
      if (!text.includes('\n')) {
        this.take(d);
        return [`${' '.repeat(column)}-${' '.repeat(gap)}${text}`];
      }
    }
    if (flowItems && isRecord(value)) return [`${' '.repeat(column)}-${' '.repeat(gap)}${flowText(value, this.shared.style.flowPadding)}`];
    return blockLines([value], column, { ...this.shared.style, seqGap: gap });
  }

  /**
   * An item (or a map value) written into a flow collection, starting on a line indented by `margin`; an item
   * moved from another flow list keeps its text, its later lines shifted to the new place.
   */
  private flowItemText(node: Collection, value: Json, margin = this.indentOfLine(this.anchorPos(node))): string {
    const d = this.movable(value);
    if (d && this.isFlow(d.seq)) {
      const [start, end] = rangeOf(d.node);
      this.take(d);
      const lines = this.movedText(d, value, start, end).split(/\r?\n/);
      return [lines[0], ...reindent(lines.slice(1), margin - this.indentOfLine(start))].join(this.shared.style.eol);
    }
    if (Array.isArray(value) && value.length > 0 && value.some((v) => this.movable(v) && this.isFlow(this.movable(v)!.seq))) {
      const json = this.jsonStyle(node);
      if (json?.indent === undefined) return `[${value.map((v) => this.flowItemText(node, v, margin)).join(json ? json.comma : ', ')}]`;
      const inner = `${this.shared.style.eol}${' '.repeat(margin)}${json.indent}`;
      const items = value.map((v) => this.flowItemText(node, v, margin + json.indent!.length));
      return `[${inner}${items.join(`,${inner}`)}${this.shared.style.eol}${' '.repeat(margin)}]`;
    }
    const json = this.jsonStyle(node);
    if (json) return jsonText(value, json, ' '.repeat(margin), this.shared.style.eol);
    return flowText(value, this.shared.style.flowPadding);
  }
}

/** Shifts lines right (or left, as far as their indentation goes); empty lines stay empty. */
function reindent(lines: string[], shift: number): string[] {
  if (shift === 0) return lines;
  return lines.map((line) => {
    if (line.trim() === '') return line;
    if (shift > 0) return `${' '.repeat(shift)}${line}`;
    const spaces = /^ */.exec(line)![0].length;
    return line.slice(Math.min(spaces, -shift));
  });
}

/** `text[from, to)` with the edits that fall in it applied; an edit across the bounds or over another throws. */
export function applyEdits(text: string, edits: readonly TextEdit[], from = 0, to = text.length): string {
  const strong = edits.filter((e) => !e.weak);
  const overlaps = (a: TextEdit, b: TextEdit) => a.start < b.end && b.start < a.end;
  const kept = [...strong, ...edits.filter((e) => e.weak && !strong.some((s) => overlaps(s, e) || (s.start === e.start && s.end === e.end)))];
  const inside = kept.filter((e) => e.start >= from && e.end <= to).sort((a, b) => a.start - b.start || a.end - b.end || a.seq - b.seq);
  if (kept.some((e) => e.start < to && e.end > from && !(e.start >= from && e.end <= to))) {
    throw new UnsupportedEdit('an edit crosses the bounds of the text it belongs to');
  }
  let out = '';
  let cursor = from;
  for (const e of inside) {
    if (e.start < cursor) throw new UnsupportedEdit('two edits overlap');
    out += text.slice(cursor, e.start) + e.text;
    cursor = e.end;
  }
  return out + text.slice(cursor, to);
}

/** What all patchers of one document share: the text, node positions, and items removed so far. */
interface Shared {
  text: string;
  doc: Document.Parsed;
  style: RenderStyle;
  parents: Map<Node, Where>;
  aliases: Map<Node, Alias[]>;
  writtenOut: Set<Node>;
  dropped: Map<string, Dropped[]>;
  counter: number;
  /** Every key of the document is double-quoted (a JSON document): new flow content is written as JSON. */
  json: boolean;
  jsonColon: string;
  jsonComma: string;
  jsonIndent: string;
}

function count(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

function index(doc: Document.Parsed, text: string): Pick<Shared, 'parents' | 'aliases' | 'json' | 'jsonColon' | 'jsonComma' | 'jsonIndent'> {
  const parents = new Map<Node, Where>();
  const aliases = new Map<Node, Alias[]>();
  let keys = 0;
  let quotedKeys = 0;
  const walk = (node: unknown, where: Where) => {
    if (node === null || typeof node !== 'object') return;
    parents.set(node as Node, where);
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target) aliases.set(target as Node, [...(aliases.get(target as Node) ?? []), node]);
    } else if (isMap(node)) {
      node.items.forEach((pair, i) => {
        keys++;
        if (isScalar(pair.key) && pair.key.type === 'QUOTE_DOUBLE') quotedKeys++;
        walk(pair.value, { parent: node, pair, index: i });
      });
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, { parent: node, index: i }));
    }
  };
  walk(doc.contents, { parent: undefined, index: 0 });
  const start = (doc.contents as Node | null)?.range?.[0] ?? 0;
  const json = keys > 0 && quotedKeys === keys && /^[[{]/.test(text.slice(start));
  // Separators of JSON on one line: `{"a":1,"b":2}` (JSON.stringify) or `{"a": 1, "b": 2}` (Python's json).
  const tightComma = count(text, /[\]}"\d],(?=[[{"\d-])/g) > count(text, /[\]}"\d], (?=[[{"\d-])/g);
  const tightColon = count(text, /":(?=[^\s])/g) > count(text, /": /g);
  const pretty = /\n([ \t]+)\S/.exec(text);
  return { parents, aliases, json, jsonColon: tightColon ? ':' : ': ', jsonComma: tightComma ? ',' : ', ', jsonIndent: pretty ? pretty[1]! : '  ' };
}

/**
 * Text of `text` (one YAML document, parsed as `doc` with source tokens kept) edited so that the object at each
 * target's pointer reads as its `after` value. Throws UnsupportedEdit for what it cannot write in place.
 */
export function patchText(
  text: string,
  doc: Document.Parsed,
  targets: ReadonlyArray<{ pointer: string; before: Json; after: Json }>,
  style: RenderStyle,
): string {
  const shared: Shared = { text, doc, style, writtenOut: new Set(), dropped: new Map(), counter: 0, ...index(doc, text) };
  const patcher = new TextPatcher(shared);
  for (const { pointer, before, after } of targets) patcher.diff(nodeAt(doc, pointer), before, after);
  patcher.finish();
  return applyEdits(text, patcher.edits);
}

function nodeAt(doc: Document.Parsed, pointer: string): unknown {
  let node: unknown = doc.contents;
  for (const key of pointerSegments(pointer)) {
    if (isMap(node)) node = node.items.findLast((p) => keyOf(p) === key)?.value;
    else if (isSeq(node)) node = node.items[Number(key)];
    else node = undefined;
    if (isAlias(node)) throw new UnsupportedEdit(`an object reached through alias *${node.source}`);
  }
  if (!isMap(node)) throw new UnsupportedEdit(`no mapping at ${pointer || 'the document root'}`);
  return node;
}
