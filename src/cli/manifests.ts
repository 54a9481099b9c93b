import { OfflineClusterView } from '../cluster/offline.js';
import type { PolicyConfig } from '../config/policy.js';
import { evaluate, type EvaluateOptions, type Evaluation } from '../engine/evaluate.js';
import type { Rule, RuleContext } from '../engine/types.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { manifestLine, parseManifests, type Manifest, type ParsedManifests } from '../manifests/parse.js';
import { RULES } from '../rules/index.js';
import type { InputText } from './inputs.js';

export interface ParsedInput {
  input: InputText;
  parsed: ParsedManifests;
}

export function parseInputs(inputs: readonly InputText[]): { files: ParsedInput[]; errors: GracekeeperError[] } {
  const files = inputs.map((input) => ({ input, parsed: parseManifests(input.text, input.name) }));
  return { files, errors: files.flatMap((f) => f.parsed.errors) };
}

/** One offline view of every object of every input, so references resolve across files. */
export function offlineContext(files: readonly ParsedInput[], config: PolicyConfig): RuleContext {
  const objects = files.flatMap((f) => f.parsed.manifests.map((m) => ({ object: m.object, file: m.file })));
  return { config, cluster: new OfflineClusterView(objects, config.kubernetesVersion) };
}

/**
 * Evaluates one manifest, asking the offline view on its behalf (objects nearest its file win). A workload of the
 * wrong shape, or a rule that throws, becomes an error naming the file and the line of the field, so one bad
 * document never stops the others.
 */
export function evaluateManifest(
  parsed: ParsedManifests,
  m: Manifest,
  ctx: RuleContext,
  options: EvaluateOptions & { rules?: readonly Rule[] } = {},
): Evaluation | null | GracekeeperError {
  try {
    const scoped = ctx.cluster instanceof OfflineClusterView ? { ...ctx, cluster: ctx.cluster.forFile(m.file) } : ctx;
    return evaluate(m.object, options.rules ?? RULES, scoped, options);
  } catch (e) {
    if (e instanceof GracekeeperError && e.code === ErrorCode.WorkloadUnreadable) {
      return new GracekeeperError(e.code, e.detail, `${m.file}:${manifestLine(parsed, m, e.where ?? '')}`);
    }
    return new GracekeeperError(ErrorCode.EvaluationFailed, `rules could not evaluate this workload: ${(e as Error).message}`, m.source);
  }
}
