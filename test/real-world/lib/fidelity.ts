import jsonpatch from 'fast-json-patch';
import { isCollection, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { evaluateManifest, offlineContext, parseInputs } from '../../../src/cli/manifests.js';
import { defaultPolicyConfig } from '../../../src/config/policy.js';
import { pointerSegments } from '../../../src/manifests/parse.js';
import { parseManifestDocuments } from '../../../src/manifests/yaml11.js';

/** What mutate did to one file beyond its fixes. */
export interface FidelityReport {
  /** Original lines (1-based number and text) no fix touched that are missing from the output. */
  lostLines: Array<{ line: number; text: string }>;
  /** Fields whose value, read with YAML 1.1 rules as Kubernetes reads them, differs though no fix touched them. */
  changedValues: Array<{ path: string; before: unknown; after: unknown }>;
  /** Documents whose text mutate changed. */
  changedDocuments: number;
}

/** The text of each document as mutate's renderer splits it (a document runs to the start of the next). */
function documentTexts(text: string, docs: readonly Document.Parsed[]): string[] {
  return docs.map((doc, i) => text.slice(i === 0 ? 0 : doc.range[0], i + 1 < docs.length ? docs[i + 1]!.range[0] : text.length));
}

/** The node at a JSON pointer, with the pair holding it (for its key's line); undefined when it does not exist. */
function nodeAt(doc: Document.Parsed, pointer: string): { node: Node; key?: Node } | undefined {
  let node: unknown = doc.contents;
  let key: Node | undefined;
  for (const seg of pointerSegments(pointer)) {
    if (isSeq(node)) {
      node = /^\d+$/.test(seg) ? node.items[Number(seg)] : undefined;
      key = undefined;
    } else if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      if (!pair) return undefined;
      node = pair.value;
      key = (pair.key as Node | null) ?? undefined;
    } else return undefined;
  }
  return node && typeof node === 'object' && 'range' in node ? { node: node as Node, ...(key ? { key } : {}) } : undefined;
}

const lineOf = (lineStarts: readonly number[], offset: number) => {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
};

/**
 * Lines of the original a fix may change: the whole node a fix replaces or removes (with its key's line), and
 * for an addition into a flow collection (`{...}`, `[...]`, on one line or several) that collection's lines,
 * since nothing can be added to it without touching them. An addition into a block collection touches no line.
 */
function touchedLines(doc: Document.Parsed, lineStarts: readonly number[], ops: readonly jsonpatch.Operation[]): Set<number> {
  const lines = new Set<number>();
  const span = (from: number, to: number) => {
    for (let l = lineOf(lineStarts, from); l <= lineOf(lineStarts, Math.max(from, to - 1)); l++) lines.add(l);
  };
  for (const op of ops) {
    if (op.op === 'replace' || op.op === 'remove') {
      const at = nodeAt(doc, op.path);
      if (at) {
        span(at.key?.range?.[0] ?? at.node.range![0], at.node.range![1]);
        continue;
      }
    }
    // An addition (or a change below a node that is not there): the deepest existing ancestor, if it is flow.
    const segs = pointerSegments(op.path);
    for (let n = segs.length - 1; n >= 0; n--) {
      const parent = nodeAt(doc, segs.slice(0, n).map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''));
      if (!parent) continue;
      if (isCollection(parent.node) && parent.node.flow) span(parent.node.range![0], parent.node.range![1]);
      else if (isScalar(parent.node)) span(parent.key?.range?.[0] ?? parent.node.range![0], parent.node.range![1]); // a scalar made a map
      break;
    }
  }
  return lines;
}

/** Is `path` one of the fixed paths, or below or above one (an added parent, a changed child)? */
const coveredBy = (path: string, fixed: readonly string[]) =>
  fixed.some((p) => p === path || path.startsWith(`${p}/`) || p.startsWith(`${path}/`));

/**
 * Compares what mutate printed with its input. The fixes are the engine's own (the same evaluation mutate runs),
 * so anything else that differs is damage: a line gone that no fix touched, or a value that Kubernetes (YAML 1.1)
 * reads differently, such as `defaultMode: 0400` written back as `400`.
 */
export function checkFidelity(name: string, input: string, output: string): FidelityReport {
  const report: FidelityReport = { lostLines: [], changedValues: [], changedDocuments: 0 };
  const { files } = parseInputs([{ name, text: input }]);
  const parsed = files[0]!.parsed;
  const ctx = offlineContext(files, defaultPolicyConfig());
  const docs = parsed.documents;
  const lineStarts = [0, ...[...input.matchAll(/\n/g)].map((m) => m.index! + 1)];

  // The paths each document's fixes change, from the engine's fixed objects.
  const fixedPaths = new Map<number, jsonpatch.Operation[]>();
  for (const m of parsed.manifests) {
    let fixed: unknown;
    const evaluation = evaluateManifest(parsed, m, ctx, { fix: true });
    if (!evaluation || evaluation instanceof Error) continue; // not a readable workload: mutate changes nothing
    fixed = evaluation.fixed;
    if (!fixed) continue;
    const ops = jsonpatch.compare(m.object, fixed as object).map((op) => ({ ...op, path: `${m.pointer}${op.path}` }));
    fixedPaths.set(m.document, [...(fixedPaths.get(m.document) ?? []), ...ops]);
  }

  const outList = parseManifestDocuments(output);
  const inTexts = documentTexts(input, docs);
  const outTexts = documentTexts(output, outList);
  const inJson = /^\s*[[{]/.test(input);

  inTexts.forEach((inText, i) => {
    const outText = inJson && docs.length === 1 ? output : outTexts[i];
    if (outText === inText) return;
    report.changedDocuments++;
    const ops = fixedPaths.get(i) ?? [];
    // Lines: every original line outside the fixes is still in the document's output, as many times.
    const touched = touchedLines(docs[i]!, lineStarts, ops);
    const firstLine = lineOf(lineStarts, i === 0 ? 0 : docs[i]!.range[0]);
    const available = new Map<string, number>();
    for (const l of (outText ?? '').split('\n')) available.set(l, (available.get(l) ?? 0) + 1);
    inText.split('\n').forEach((text, k) => {
      const line = firstLine + k;
      if (touched.has(line)) return;
      const n = available.get(text) ?? 0;
      if (n > 0) available.set(text, n - 1);
      else report.lostLines.push({ line, text });
    });
    // Values: read both as YAML 1.1 (as the API server's decoder does); differences only where a fix changed.
    // The project's reader: go-yaml v2's resolution (0400 octal, yes/on booleans, timestamps and 1:20 strings).
    const b = parseManifestDocuments(inText).find((d) => d.contents !== null)?.toJS();
    const a = parseManifestDocuments(outText ?? '').find((d) => d.contents !== null)?.toJS();
    if (b === undefined || a === undefined || typeof b !== 'object' || typeof a !== 'object') {
      if (JSON.stringify(a) !== JSON.stringify(b)) report.changedValues.push({ path: '', before: b, after: a });
      return;
    }
    const fixed = ops.map((o) => o.path);
    for (const op of jsonpatch.compare(b as object, a as object)) {
      if (coveredBy(op.path, fixed)) continue;
      const was = op.op === 'add' ? undefined : (jsonpatch.getValueByPointer(b, op.path) as unknown);
      report.changedValues.push({ path: op.path, before: was, after: 'value' in op ? op.value : undefined });
    }
  });
  return report;
}
