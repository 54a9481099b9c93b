import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, visit, type Document, type Node } from 'yaml';
import { ErrorCode, GracekeeperError } from '../errors.js';
import type { KubeObject } from '../engine/types.js';
import { isObject } from '../engine/workload.js';
import { parseManifestDocuments } from './yaml11.js';

export interface Manifest {
  object: KubeObject;
  /** file:line of the object: its document, or its item in a List. */
  source: string;
  file: string;
  line: number;
  /** Index of the object's document in ParsedManifests.documents. */
  document: number;
  /** JSON pointer of the object inside its document: '' or, for a List item, '/items/<i>'. */
  pointer: string;
}

export interface ParsedManifests {
  manifests: Manifest[];
  errors: GracekeeperError[];
  /** Every YAML document of the text, in order, including those with errors (editors keep comments with them). */
  documents: Document.Parsed[];
  /** Offsets to lines of the text. */
  lines: LineCounter;
}

/** Splits a JSON pointer into its unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The child node of a map or sequence, with the offset where its entry starts (the key, for a map). */
function child(node: unknown, key: string): { node: unknown; offset: number | undefined } | undefined {
  if (isSeq(node)) {
    const item = /^\d+$/.test(key) ? node.items[Number(key)] : undefined;
    return item === undefined ? undefined : { node: item, offset: (item as Node).range?.[0] };
  }
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
    return pair ? { node: pair.value, offset: (pair.key as Node | null)?.range?.[0] } : undefined;
  }
  return undefined;
}

/** 1-based line of the deepest node on `pointer` that exists in the document (a missing field: its parent). */
function lineOfPointer(doc: Document.Parsed, lines: LineCounter, pointer: string): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? doc.range[0];
  for (const key of pointerSegments(pointer)) {
    const next = child(node, key);
    if (!next) break;
    node = next.node;
    offset = next.offset ?? offset;
  }
  return lines.linePos(offset).line;
}

/** Line of a field of a manifest, given as a JSON pointer into the object (as in findings and shape errors). */
export function manifestLine(parsed: ParsedManifests, m: Manifest, pointer: string): number {
  const doc = parsed.documents[m.document];
  return doc ? lineOfPointer(doc, parsed.lines, `${m.pointer}${pointer === '/' ? '' : pointer}`) : m.line;
}

/** Added to syntax errors of a text holding `{{`: the usual cause is a chart's template read before rendering. */
const TEMPLATE_HINT = " (the file holds '{{ }}': an unrendered Helm or Go template? Render it first, e.g. with helm template)";

/**
 * The first mapping key that is a mapping or a list (`type: {{ .Values.type }}` reads as one): sigs.k8s.io/yaml
 * refuses such a key, and converting it to an object would make up a string key.
 */
function firstCollectionKey(doc: Document.Parsed): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        found = pair.key;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Expands `kind: List` (and `*List` kinds from `kubectl get -o yaml`) into its items, with their pointers. */
function expand(obj: KubeObject, pointer: string): Array<{ object: KubeObject; pointer: string }> {
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    return (obj.items as unknown[]).flatMap((item, i) =>
      isObject(item) ? expand(item as KubeObject, `${pointer}/items/${i}`) : [],
    );
  }
  return [{ object: obj, pointer }];
}

/**
 * Parses multi-document YAML or JSON, with the YAML 1.1 rules Kubernetes reads manifests by (yaml11.ts). A document with a syntax error is reported with file and line; the
 * other documents are still returned. Empty documents are skipped; a document that is not a mapping is an error.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const lines = new LineCounter();
  const result: ParsedManifests = { manifests: [], errors: [], documents: parseManifestDocuments(text, lines), lines };
  const lineAt = (offset: number) => lines.linePos(offset).line;
  const hint = text.includes('{{') ? TEMPLATE_HINT : '';
  result.documents.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      result.errors.push(
        new GracekeeperError(ErrorCode.ManifestSyntax, `${err.message.split('\n')[0] ?? 'YAML syntax error'}${hint}`, `${file}:${lineAt(err.pos[0])}`),
      );
      return;
    }
    const collectionKey = firstCollectionKey(doc);
    if (collectionKey) {
      const message = `a mapping key is itself a mapping or a list, which Kubernetes cannot read${hint}`;
      result.errors.push(new GracekeeperError(ErrorCode.ManifestSyntax, message, `${file}:${lineAt(collectionKey.range?.[0] ?? doc.range[0])}`));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      result.errors.push(new GracekeeperError(ErrorCode.ManifestSyntax, (e as Error).message, `${file}:${lineAt(doc.range[0])}`));
      return;
    }
    if (value === null || value === undefined) return;
    if (!isObject(value)) {
      const where = `${file}:${lineAt(doc.contents?.range?.[0] ?? doc.range[0])}`;
      result.errors.push(new GracekeeperError(ErrorCode.ManifestUnreadable, 'document is not a mapping (a Kubernetes object)', where));
      return;
    }
    for (const { object, pointer } of expand(value as KubeObject, '')) {
      const line = lineOfPointer(doc, lines, pointer);
      result.manifests.push({ object, source: `${file}:${line}`, file, line, document: index, pointer });
    }
  });
  return result;
}
