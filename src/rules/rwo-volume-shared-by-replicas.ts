import { desiredReplicas, resolveRollingUpdate } from '../engine/replicas.js';
import type { Rule, RuleIssue, Workload } from '../engine/types.js';

const KINDS = new Set(['Deployment', 'ReplicaSet', 'ReplicationController', 'StatefulSet', 'DaemonSet']);

/**
 * Access modes that forbid attaching to a second node (ReadWriteOnce) or using from a second pod
 * (ReadWriteOncePod). The attach/detach controller refuses a second attachment when the volume's modes
 * contain either, whatever else they list.
 */
const SINGLE_ATTACH = ['ReadWriteOnce', 'ReadWriteOncePod'];

interface Overlap {
  replicas: number;
  surge: number;
  /** A DaemonSet: one pod per node, so the pods are on different nodes by construction. */
  perNode: boolean;
}

/**
 * Why two pods of this workload can exist at the same time; undefined when they cannot. A StatefulSet replaces
 * its pods one at a time and never surges, so only several replicas overlap (volumeClaimTemplates give each its
 * own claim; a claim in the template's volumes is shared by all).
 */
function overlap(w: Workload): Overlap | undefined {
  if (w.kind === 'DaemonSet') return { replicas: 0, surge: 0, perNode: true };
  const replicas = desiredReplicas(w)!;
  if (replicas <= 0) return undefined;
  const surge = resolveRollingUpdate(w)?.surge ?? 0;
  if (replicas > 1 || surge > 0) return { replicas, surge, perNode: false };
  return undefined;
}

const pods = (o: Overlap) =>
  o.perNode ? 'the pods it runs on each node' : o.replicas > 1 ? `its ${o.replicas} replicas` : 'the old and the surge pod';

/**
 * Names of a StatefulSet's volumeClaimTemplates. The controller gives each pod its own claim for them and replaces a
 * pod template volume of the same name with it (updateStorage), so such a volume never shares the claim it names.
 */
function claimTemplateNames(w: Workload): Set<string> {
  if (w.kind !== 'StatefulSet') return new Set();
  const templates = (w.object.spec as { volumeClaimTemplates?: unknown } | undefined)?.volumeClaimTemplates;
  if (!Array.isArray(templates)) return new Set();
  return new Set(
    templates
      .map((t) => (t as { metadata?: { name?: unknown } } | null)?.metadata?.name)
      .filter((n): n is string => typeof n === 'string'),
  );
}

function accessModes(pvc: unknown): string[] {
  const modes = (pvc as { spec?: { accessModes?: unknown } } | undefined)?.spec?.accessModes;
  return Array.isArray(modes) ? modes.filter((m): m is string => typeof m === 'string') : [];
}

export const rwoVolumeSharedByReplicas: Rule = {
  id: 'rwo-volume-shared-by-replicas',
  summary: 'Several pods (replicas or a rolling update surge) mount one ReadWriteOnce PVC: Multi-Attach errors.',
  defaultAction: 'deny',
  check(w, ctx) {
    if (!KINDS.has(w.kind)) return [];
    const o = overlap(w);
    if (!o) return [];
    const namespace = w.metadata.namespace ?? '';
    const issues: RuleIssue[] = [];
    const perPod = claimTemplateNames(w);
    (w.podSpec.volumes ?? []).forEach((v, i) => {
      const claim = v.persistentVolumeClaim?.claimName;
      if (!claim || perPod.has(v.name)) return;
      const path = `${w.pointer}/volumes/${i}/persistentVolumeClaim/claimName`;
      const lookup = ctx.cluster.getPersistentVolumeClaim(namespace, claim);
      if (!lookup.found) {
        issues.push({
          path,
          warnOnly: true,
          message:
            `PVC '${claim}' could not be checked: ${lookup.reason}. If it is ReadWriteOnce, ${pods(o)} cannot all ` +
            'mount it (Multi-Attach). Give each pod its own claim (StatefulSet volumeClaimTemplates) or use ReadWriteMany.',
        });
        return;
      }
      const mode = SINGLE_ATTACH.find((m) => accessModes(lookup.value).includes(m));
      if (!mode) return;
      const who = o.perNode
        ? 'the DaemonSet runs one pod per node, each mounting it'
        : o.replicas > 1
          ? `${o.replicas} replicas mount it`
          : `a rolling update starts the new pod (maxSurge ${o.surge}) while the old one still holds it`;
      const fix = o.perNode
        ? 'Use a node-local volume (hostPath, local PV) or a ReadWriteMany volume.'
        : o.replicas > 1
          ? w.kind === 'StatefulSet'
            ? 'Move it to volumeClaimTemplates (one PVC per pod) or use a ReadWriteMany volume.'
            : 'Use a StatefulSet with volumeClaimTemplates (one PVC per pod) or a ReadWriteMany volume.'
          : 'Use strategy Recreate (or RollingUpdate with maxSurge: 0, maxUnavailable: 1) for this single replica.';
      issues.push({
        path,
        message:
          `PVC '${claim}' is ${mode} but ${who}. ` +
          (mode === 'ReadWriteOncePod'
            ? 'Only one pod may use it: the others stay Pending and the rollout never finishes. '
            : 'A pod on another node fails with a Multi-Attach error and stays ContainerCreating, so the rollout stalls. ') +
          fix,
      });
    });
    return issues;
  },
};
