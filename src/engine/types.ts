import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { ClusterView } from '../cluster/view.js';
import type { PolicyConfig } from '../config/policy.js';

export const WORKLOAD_KINDS = [
  'Pod',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'ReplicationController',
  'Job',
  'CronJob',
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Any Kubernetes object as decoded JSON. */
export type KubeObject = { apiVersion?: unknown; kind?: unknown; metadata?: unknown; [key: string]: unknown };

/** A Pod or pod controller, normalised so that rules read one pod spec wherever it lives. */
export interface Workload {
  kind: WorkloadKind;
  apiVersion: string;
  /** The object's own metadata (namespace may be missing offline). */
  metadata: V1ObjectMeta;
  /** Metadata of the pod template; for a Pod, the Pod's metadata. */
  templateMetadata: V1ObjectMeta;
  podSpec: V1PodSpec;
  /** JSON pointer of podSpec inside `object`: `/spec`, `/spec/template/spec`, `/spec/jobTemplate/spec/template/spec`. */
  pointer: string;
  /** The whole object as given. Rules about the controller itself (strategy, replicas) read it. */
  object: KubeObject;
  /**
   * In the engine's fix pass, where podSpec is a copy that earlier fixes may have changed: the pod spec as given.
   * Rules that check after fixes state the user's own values from it.
   */
  givenPodSpec?: V1PodSpec;
  /**
   * One per evaluation, shared by the workload as given and its fix-pass copy: what no fix can change, computed
   * once. Each evaluation makes a new one, so a view whose Services change between evaluations is read afresh.
   */
  memo: EvaluationMemo;
}

export interface EvaluationMemo {
  /** The traffic (labels, ports and the namespace's Services) as this view sees it: src/engine/traffic.ts. */
  traffic?: { view: object; value: unknown };
}

export type FindingAction = 'deny' | 'warn';

/** What a rule reports; the engine adds rule id, action and the workload's identity. */
export interface RuleIssue {
  message: string;
  /** JSON pointer into the workload object. */
  path: string;
  container?: string;
  /**
   * Cap this issue at warn even when the rule's action is deny: used when the rule lacks information (an
   * unknown PVC or Service) or for the milder variant of a problem. Never raises warn to deny.
   */
  warnOnly?: boolean;
}

export interface Finding {
  rule: string;
  action: FindingAction;
  kind: string;
  namespace: string;
  name: string;
  container?: string;
  message: string;
  path: string;
}

export interface RuleContext {
  config: PolicyConfig;
  cluster: ClusterView;
}

export interface Rule {
  /** Public, stable id: names the problem. */
  id: string;
  summary: string;
  defaultAction: FindingAction;
  /**
   * Check the workload as the earlier rules' fixes leave it (when they are active), so what it reports (a grace
   * period to set) is what the fix pass writes. Its issues' paths must hold on the object as given too.
   */
  checkAfterFixes?: boolean;
  check(workload: Workload, ctx: RuleContext): RuleIssue[];
  /**
   * A safe automatic fix, where one exists: edits `podSpec` (a private copy) in place, on the workload as fixed
   * so far. The engine may call it without checking first (when it need not say which fixes answered an issue), so
   * it must change nothing where `check` reports nothing: each fix works out what to change from the workload, as
   * its check does (test/engine/fix-contract.test.ts). Must be idempotent: after it, `check` on the result
   * reports nothing it could fix. Writes nothing but `podSpec`: the engine
   * copies and diffs only the pod spec, and the rest of `workload.object` is shared with the caller's object.
   * Within the pod spec, the spec itself, its `containers` and `initContainers` arrays and each container are
   * private copies; anything deeper (env lists, lifecycle, probes) is shared with the input and must be replaced,
   * never edited in place (`c.env = c.env.map(...)`, not `c.env[0].value = ...`).
   */
  fix?(podSpec: V1PodSpec, ctx: RuleContext, workload: Workload): void;
}
