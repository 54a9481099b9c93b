import jsonpatch from 'fast-json-patch';
import type { Document } from 'yaml';
import type { PolicyConfig } from '../config/policy.js';
import { atPointer, workloadName } from '../engine/workload.js';
import type { Rule } from '../engine/types.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { RULES } from '../rules/index.js';
import type { InputText } from './inputs.js';
import { evaluateManifest, offlineContext, parseInputs } from './manifests.js';
import { patchDocumentTo } from './yaml-patch.js';
import { detectJsonIndent, detectYamlStyle } from './yaml-style.js';

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

const isJsonText = (text: string) => /^\s*[[{]/.test(text);

/** The text with each changed document re-written from its AST and every other document copied byte for byte. */
function render(text: string, docs: readonly Document.Parsed[], edited: ReadonlyMap<number, Document>): string {
  const style = detectYamlStyle(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return docs
    .map((doc, i) => {
      const edit = edited.get(i);
      if (edit) return edit.toString(style).replace(/\r?\n/g, eol);
      const start = i === 0 ? 0 : doc.range[0];
      const end = i + 1 < docs.length ? docs[i + 1]!.range[0] : text.length;
      return text.slice(start, end);
    })
    .join('');
}

/**
 * Applies every fix to every workload of one input. The fixes are written into the YAML AST as a JSON Patch, and
 * the result is checked against the engine's fixed object, so what is printed is exactly what the webhook makes.
 */
export function mutate(input: InputText, config: PolicyConfig, rules: readonly Rule[] = RULES): MutateResult {
  const { files, errors } = parseInputs([input]);
  const { parsed } = files[0]!;
  if (errors.length > 0) return { output: undefined, fixed: [], errors };
  const ctx = offlineContext(files, config);
  const docs = parsed.documents;
  const edited = new Map<number, Document>();
  const result: MutateResult = { output: undefined, fixed: [], errors: [] };

  for (const m of parsed.manifests) {
    const evaluation = evaluateManifest(parsed, m, ctx, { fix: true, rules });
    if (evaluation instanceof Error) result.errors.push(evaluation);
    if (!evaluation || evaluation instanceof Error || !evaluation.fixed) continue;
    const draft = (edited.get(m.document) ?? docs[m.document]!).clone();
    try {
      patchDocumentTo(draft, m.pointer, m.object, evaluation.fixed);
      if (jsonpatch.compare(atPointer(draft.toJS(), m.pointer) as object, evaluation.fixed).length > 0) {
        throw new Error('the edited document does not match the fixed object');
      }
    } catch (e) {
      result.errors.push(new GracekeeperError(ErrorCode.EvaluationFailed, `fixes could not be written in place: ${(e as Error).message}`, m.source));
      continue;
    }
    edited.set(m.document, draft);
    const { kind, metadata } = evaluation.workload;
    result.fixed.push({ kind, name: workloadName(metadata), source: m.source, rules: [...new Set(evaluation.fixes.map((f) => f.rule))] });
  }

  if (edited.size === 0) result.output = input.text;
  else if (isJsonText(input.text) && docs.length === 1) {
    result.output = `${JSON.stringify(edited.get(0)!.toJS(), null, detectJsonIndent(input.text))}\n`;
  } else result.output = render(input.text, docs, edited);
  return result;
}
