import type { V1Container } from '@kubernetes/client-node';
import { containerEntries, runsAlongsideApp } from '../engine/containers.js';
import { officialServerImage, serverLaunch } from '../engine/images.js';
import { desiredReplicas } from '../engine/replicas.js';
import type { Rule, RuleIssue, Workload } from '../engine/types.js';
import { isObject } from '../engine/workload.js';

/** How many pods run, as words for the message; undefined when only one does. */
function copies(w: Workload): string | undefined {
  if (w.kind === 'DaemonSet') return 'one pod per node';
  const n = desiredReplicas(w);
  return n !== undefined && n > 1 ? `${n} replicas` : undefined;
}

/** Volume names that are persistent: PVC volumes and, for a StatefulSet, its volumeClaimTemplates. */
function persistentVolumeNames(w: Workload): Set<string> {
  const names = new Set((w.podSpec.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => v.name));
  const templates = isObject(w.object.spec) ? w.object.spec.volumeClaimTemplates : undefined;
  if (w.kind === 'StatefulSet' && Array.isArray(templates)) {
    for (const t of templates) {
      const name = isObject(t) && isObject(t.metadata) ? t.metadata.name : undefined;
      if (typeof name === 'string') names.add(name);
    }
  }
  return names;
}

const mountsAny = (c: V1Container, names: Set<string>) => (c.volumeMounts ?? []).some((m) => names.has(m.name));

export const replicatedDatabaseWithoutStorage: Rule = {
  id: 'replicated-database-without-storage',
  summary: 'A database image runs in several pods without a persistent volume: each pod keeps different data.',
  defaultAction: 'warn',
  check(w) {
    const many = copies(w);
    if (!many) return [];
    const persistent = persistentVolumeNames(w);
    const issues: RuleIssue[] = [];
    for (const e of containerEntries(w.podSpec, w.pointer)) {
      if (!runsAlongsideApp(e)) continue;
      const image = officialServerImage(e.container.image);
      if (!image || !serverLaunch(e.container, image) || mountsAny(e.container, persistent)) continue;
      issues.push({
        container: e.container.name,
        path: e.path,
        message:
          `container '${e.container.name}' runs ${image.name} in ${many} without a persistent volume: each pod keeps ` +
          'its own data. Clients see different data per pod, and a restarted pod starts empty. Use a StatefulSet with ' +
          "volumeClaimTemplates and the database's replication, or one replica with a PVC.",
      });
    }
    return issues;
  },
};
