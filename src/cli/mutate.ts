import { isDeepStrictEqual } from 'node:util';
import type { PolicyConfig } from '../config/policy.js';
import type { KubeObject, Rule } from '../engine/types.js';
import { atPointer, workloadName } from '../engine/workload.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { pointerSegments, type Manifest } from '../manifests/parse.js';
import { parseManifestDocuments } from '../manifests/yaml11.js';
import { RULES } from '../rules/index.js';
import type { InputText } from './inputs.js';
import { evaluateManifest, offlineContext, parseInputs } from './manifests.js';
import { patchText } from './yaml-patch.js';
import type { RenderStyle } from './yaml-render.js';
import { detectYamlStyle } from './yaml-style.js';

export interface AppliedFixes {
  kind: string;
  name: string;
  source: string;
  rules: string[];
}

export interface MutateResult {
  /** The manifests with fixes applied; undefined when the input could not be read back faithfully. */
  output: string | undefined;
  fixed: AppliedFixes[];
  errors: GracekeeperError[];
}

interface Target {
  manifest: Manifest;
  fixed: KubeObject;
  applied: AppliedFixes;
}

const MAX_ALIASES = { maxAliasCount: 1000 };

/** `value` with the object at `pointer` ('' or '/items/<i>') replaced by `object`. */
function withObjectAt(value: unknown, pointer: string, object: unknown): unknown {
  const segments = pointerSegments(pointer);
  if (segments.length === 0) return object;
  const copy = structuredClone(value) as Record<string, unknown>;
  let parent: Record<string, unknown> = copy;
  for (const key of segments.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  parent[segments.at(-1)!] = object;
  return copy;
}

/** One document's text, read with the manifest reader; source tokens kept for the editor. */
function readDocument(text: string) {
  const docs = parseManifestDocuments(text, undefined, { keepSourceTokens: true });
  // One document with content; an empty one after it (a directive before the next `---`) is text kept as is.
  const full = docs.filter((d) => d.contents !== null);
  const doc = full.length === 1 ? full[0]! : undefined;
  if (!doc || docs.some((d) => d.errors.length > 0)) throw new Error('the document does not read back on its own');
  return doc;
}

/**
 * The text of one document with the fixed objects written in: the source text is edited where the objects
 * differ (yaml-patch.ts), then read again with Kubernetes' rules and compared with what was asked. A document
 * that would not read back exactly so is never returned.
 */
function editDocument(text: string, targets: readonly Target[], style: RenderStyle): string {
  const doc = readDocument(text);
  const value = doc.toJS(MAX_ALIASES) as unknown;
  let expected = value;
  for (const t of targets) expected = withObjectAt(expected, t.manifest.pointer, t.fixed);
  const edited = patchText(
    text,
    doc,
    targets.map((t) => ({ pointer: t.manifest.pointer, before: atPointer(value, t.manifest.pointer), after: t.fixed })),
    style,
  );
  if (!isDeepStrictEqual(readDocument(edited).toJS(MAX_ALIASES), expected)) {
    throw new Error('the edited text does not read back as the fixed object');
  }
  return edited;
}

/**
 * Applies every fix to every workload of one input. Each fixed object is written into the source text in place
 * (only the lines a fix adds or changes differ), and checked against the engine's fixed object, so what is printed
 * is exactly what the webhook makes.
 */
export function mutate(input: InputText, config: PolicyConfig, rules: readonly Rule[] = RULES): MutateResult {
  const { files, errors } = parseInputs([input]);
  const { parsed } = files[0]!;
  if (errors.length > 0) return { output: undefined, fixed: [], errors };
  const ctx = offlineContext(files, config);
  const result: MutateResult = { output: undefined, fixed: [], errors: [] };
  const byDocument = new Map<number, Target[]>();

  for (const m of parsed.manifests) {
    const evaluation = evaluateManifest(parsed, m, ctx, { fix: true, rules });
    if (evaluation instanceof Error) result.errors.push(evaluation);
    if (!evaluation || evaluation instanceof Error || !evaluation.fixed) continue;
    const { kind, metadata } = evaluation.workload;
    const applied = { kind, name: workloadName(metadata), source: m.source, rules: [...new Set(evaluation.fixes.map((f) => f.rule))] };
    byDocument.set(m.document, [...(byDocument.get(m.document) ?? []), { manifest: m, fixed: evaluation.fixed, applied }]);
  }

  const text = input.text;
  const docs = parsed.documents;
  const style = detectYamlStyle(text);
  const failed = (t: Target, e: unknown) =>
    result.errors.push(new GracekeeperError(ErrorCode.EvaluationFailed, `fixes could not be written in place: ${(e as Error).message}`, t.manifest.source));
  const pieces = docs.map((doc, i) => {
    // Each document's text runs to the next one's start: comments and `...` after a document stay with it.
    const piece = text.slice(i === 0 ? 0 : doc.range[0], i + 1 < docs.length ? docs[i + 1]!.range[0] : text.length);
    const targets = byDocument.get(i);
    if (!targets) return piece;
    try {
      const edited = editDocument(piece, targets, style);
      result.fixed.push(...targets.map((t) => t.applied));
      return edited;
    } catch (e) {
      if (targets.length === 1) {
        failed(targets[0]!, e);
        return piece;
      }
    }
    // Several objects in one document (a List): write them one by one, so one that cannot be written stays alone.
    let current = piece;
    for (const t of targets) {
      try {
        current = editDocument(current, [t], style);
        result.fixed.push(t.applied);
      } catch (e) {
        failed(t, e);
      }
    }
    return current;
  });
  result.output = byDocument.size === 0 ? text : pieces.join('');
  return result;
}
