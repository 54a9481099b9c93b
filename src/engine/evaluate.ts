import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { V1PodSpec } from '@kubernetes/client-node';
import type { RuleAction } from '../config/policy.js';
import { isSkipped, readSkip } from './skips.js';
import type { Finding, FindingAction, KubeObject, Rule, RuleContext, RuleIssue, Workload } from './types.js';
import { toWorkload, workloadName } from './workload.js';

export interface EvaluateOptions {
  /** Compute fixes and the JSON Patch that applies them. */
  fix?: boolean;
  /**
   * With `fix`: also list which fixes answered an issue (Evaluation.fixes), which costs a re-check after each fix.
   * Default true; the mutating webhook in enforce mode answers with the patch alone and turns it off.
   */
  listFixes?: boolean;
  /**
   * With `fix`: also diff the fixed pod spec into Evaluation.patch and keep Evaluation.fixed. Default true; callers
   * that need only the list of fixes (the validating webhook, the report scan) turn it off and skip the diff.
   */
  patch?: boolean;
  /** Run only these rule ids (fixture tests); default every rule. */
  only?: readonly string[];
}

export interface AppliedFix {
  rule: string;
  /** The first issue the fix answered, for "the Pod will receive ..." messages. */
  message: string;
  container?: string;
}

export interface Evaluation {
  workload: Workload;
  /** Findings on the object as given. */
  findings: Finding[];
  /** Fixes in the order applied (empty unless options.fix). */
  fixes: AppliedFix[];
  /** JSON Patch from the object as given to the fixed object (empty without options.fix, or with options.patch false). */
  patch: Operation[];
  /**
   * The fixed object, when a fix changed anything (never with options.patch false); it shares everything but the
   * pod spec with the input.
   */
  fixed?: KubeObject;
}

export function actionFor(rule: Rule, ctx: RuleContext): RuleAction {
  return ctx.config.rules[rule.id] ?? rule.defaultAction;
}

function activeRules(rules: readonly Rule[], ctx: RuleContext, w: Workload, only?: readonly string[]) {
  const skip = readSkip(w);
  return rules.filter(
    (r) => (!only || only.includes(r.id)) && actionFor(r, ctx) !== 'off' && !isSkipped(skip, r.id),
  );
}

/**
 * The engine: pure and synchronous. Returns null for objects that hold no pod spec.
 * Throws GracekeeperError(WORKLOAD_UNREADABLE) when a workload has fields of the wrong shape.
 */
export function evaluate(obj: KubeObject, rules: readonly Rule[], ctx: RuleContext, options: EvaluateOptions = {}): Evaluation | null {
  const workload = toWorkload(obj);
  if (!workload) return null;
  const active = activeRules(rules, ctx, workload, options.only);
  const identity = {
    kind: workload.kind,
    namespace: workload.metadata.namespace ?? '',
    name: workloadName(workload.metadata),
  };

  // Findings per active rule, in catalogue order. A rule that checks after fixes is filled in by the pass below.
  const issuesOf: RuleIssue[][] = active.map((rule) => (rule.checkAfterFixes ? [] : rule.check(workload, ctx)));
  const fixReported = () => active.some((r, i) => r.fix && issuesOf[i]!.length > 0);
  const lastAfterFixes = active.findLastIndex((r) => r.checkAfterFixes);
  const result: Evaluation = { workload, findings: [], fixes: [], patch: [] };

  // Checks are pure, so on the copy below a rule reports issues only where this pass did or an earlier fix
  // changed something: when no rule with a fix reported, no fix would run, and rules that check after fixes see
  // the object as given. Skip the copy and the diff then.
  const fixesBefore = fixReported();
  if (!fixesBefore) {
    active.forEach((r, i) => {
      if (r.checkAfterFixes) issuesOf[i] = r.check(workload, ctx);
    });
  }
  const passNeeded = options.fix ? fixReported() : fixesBefore && lastAfterFixes >= 0;
  if (!passNeeded) {
    result.findings = toFindings(active, issuesOf, ctx, identity);
    return result;
  }

  // Fixes run in catalogue order on one copy, and a rule that checks after fixes checks the copy as fixed so far,
  // so it (the grace period) sees what an earlier fix (a preStop sleep) added. Fixing rules check the copy again
  // only when the fixes are listed. Fixes edit only the pod spec (the Rule contract), so only the pod spec is copied
  // and diffed: metadata and managedFields are often half a Pod.
  const { copy, podSpec } = copyPodSpec(obj, workload.pointer);
  const fixedWorkload: Workload = { ...workload, podSpec, object: copy, givenPodSpec: workload.podSpec };
  const stopAt = options.fix ? active.length - 1 : lastAfterFixes;
  const listFixes = options.fix === true && options.listFixes !== false;
  let fixesRan = false;
  for (let i = 0; i <= stopAt; i++) {
    const rule = active[i]!;
    if (!rule.fix && !rule.checkAfterFixes) continue;
    if (!listFixes && !rule.checkAfterFixes) {
      // Only the fixed pod spec matters here, and a fix changes nothing where its check would report nothing (the
      // Rule contract): no need to check again, and before any fix ran the first check's issues still hold.
      if (fixesRan || issuesOf[i]!.length > 0) {
        rule.fix!(fixedWorkload.podSpec, ctx, fixedWorkload);
        fixesRan = true;
      }
      continue;
    }
    // Until a fix has run the copy equals the object as given, so the first check's issues still hold.
    const issues = fixesRan || rule.checkAfterFixes ? rule.check(fixedWorkload, ctx) : issuesOf[i]!;
    if (rule.checkAfterFixes) issuesOf[i] = issues;
    // Without options.fix a fix matters only to the rules that check after it.
    if (!rule.fix || issues.length === 0 || (!options.fix && i === lastAfterFixes)) continue;
    rule.fix(fixedWorkload.podSpec, ctx, fixedWorkload);
    fixesRan = true;
    // A rule may find a problem it cannot fix on this cluster (no sleep action, no shell): list only fixes that
    // answered an issue. Re-checking is cheap; serialising the pod spec before and after each fix was half of
    // evaluate's time on a typical Pod. The patch always comes from the diff below, whatever is listed.
    if (!listFixes || rule.check(fixedWorkload, ctx).length >= issues.length) continue;
    const first = issues[0]!;
    result.fixes.push({ rule: rule.id, message: first.message, ...(first.container ? { container: first.container } : {}) });
  }
  result.findings = toFindings(active, issuesOf, ctx, identity);
  if (!options.fix) {
    result.fixes = [];
    return result;
  }
  if (fixesRan && options.patch !== false) {
    result.patch = jsonpatch
      .compare(workload.podSpec, podSpec)
      .map((op) => ({ ...op, path: `${workload.pointer}${op.path}` }) as Operation);
    if (result.patch.length > 0) result.fixed = copy;
  }
  return result;
}

function toFindings(
  active: readonly Rule[],
  issuesOf: readonly RuleIssue[][],
  ctx: RuleContext,
  identity: { kind: string; namespace: string; name: string },
): Finding[] {
  const findings: Finding[] = [];
  active.forEach((rule, i) => {
    const action = actionFor(rule, ctx) as FindingAction;
    for (const issue of issuesOf[i]!) {
      const finding: Finding = { rule: rule.id, action: issue.warnOnly ? 'warn' : action, ...identity, path: issue.path, message: issue.message };
      if (issue.container !== undefined) finding.container = issue.container;
      findings.push(finding);
    }
  });
  return findings;
}

/**
 * A copy of `obj` in which the objects on the way to `pointer` are new and the pod spec at `pointer` is editable
 * (editablePodSpec); everything else is shared with `obj`, so the copy must not be written outside the pod spec.
 */
function copyPodSpec(obj: KubeObject, pointer: string): { copy: KubeObject; podSpec: V1PodSpec } {
  const keys = pointer.split('/').slice(1);
  const copy: KubeObject = { ...obj };
  let parent: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    const child = { ...(parent[key] as Record<string, unknown>) };
    parent[key] = child;
    parent = child;
  }
  const last = keys.at(-1)!;
  const podSpec = editablePodSpec(parent[last] as V1PodSpec);
  parent[last] = podSpec;
  return { copy, podSpec };
}

/**
 * What fixes may edit in place (the Rule contract): the pod spec, its container lists and each container are new
 * objects; everything below a container's fields is shared with the input, and fixes replace such fields
 * (`c.lifecycle = {...}`) instead of editing them. A deep copy cost more than all rules together, and sharing
 * also lets the diff skip every untouched subtree by identity.
 */
function editablePodSpec(spec: V1PodSpec): V1PodSpec {
  const copy: V1PodSpec = { ...spec };
  if (Array.isArray(spec.containers)) copy.containers = spec.containers.map((c) => ({ ...c }));
  if (Array.isArray(spec.initContainers)) copy.initContainers = spec.initContainers.map((c) => ({ ...c }));
  return copy;
}
