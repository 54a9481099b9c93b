import { parseAllDocuments } from 'yaml';
import { ErrorCode, GracekeeperError } from '../errors.js';
import type { KubeObject } from '../engine/types.js';
import { isObject } from '../engine/workload.js';

export interface Manifest {
  object: KubeObject;
  /** file:line of the document (or of the List item's document). */
  source: string;
}

export interface ParsedManifests {
  manifests: Manifest[];
  errors: GracekeeperError[];
}

/** Expands `kind: List` (and `*List` kinds from `kubectl get -o yaml`) into its items. */
function expand(obj: KubeObject): KubeObject[] {
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    return (obj.items as unknown[]).filter(isObject).flatMap((item) => expand(item as KubeObject));
  }
  return [obj];
}

/**
 * Parses multi-document YAML or JSON. A document with a syntax error is reported with file and line; the
 * other documents are still returned. Empty documents are skipped; a document that is not a mapping is an error.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const result: ParsedManifests = { manifests: [], errors: [] };
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const start = doc.range?.[0] ?? 0;
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      const line = err.linePos?.[0]?.line ?? lineOf(err.pos[0]);
      result.errors.push(
        new GracekeeperError(ErrorCode.ManifestSyntax, err.message.split('\n')[0] ?? 'YAML syntax error', `${file}:${line}`),
      );
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      result.errors.push(new GracekeeperError(ErrorCode.ManifestSyntax, (e as Error).message, `${file}:${lineOf(start)}`));
      continue;
    }
    if (value === null || value === undefined) continue;
    const source = `${file}:${lineOf(doc.contents?.range?.[0] ?? start)}`;
    if (!isObject(value)) {
      result.errors.push(new GracekeeperError(ErrorCode.ManifestUnreadable, 'document is not a mapping (a Kubernetes object)', source));
      continue;
    }
    for (const object of expand(value as KubeObject)) result.manifests.push({ object, source });
  }
  return result;
}
