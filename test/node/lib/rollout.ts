/**
 * `kubectl rollout restart` through the API (the annotation patch kubectl sends), waiting until the
 * rollout is complete AND every old Pod is gone (its shutdown is where requests get lost), and one
 * measured rollout: load from both clients during it, counts at the end.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { sleep, waitFor } from '../../cluster/processes.js';
import { ingressLoad } from './ingress.js';
import { serviceLoad } from './load.js';
import type { LoadCounts, LoadOptions } from './load.js';
import type { SliceEvent } from './ingress.js';

export async function restart(apps: AppsV1Api, namespace: string, name: string): Promise<void> {
  await apps.patchNamespacedDeployment({
    namespace,
    name,
    body: [{ op: 'add', path: '/spec/template/metadata/annotations', value: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } }],
  });
}

/** Deployment rolled out (observed, all replicas updated and available) and no Pod of it terminating. */
export async function waitRolledOut(kc: KubeConfig, namespace: string, name: string, timeoutMs = 180_000): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `Deployment ${namespace}/${name} rolled out with no old Pod left`,
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace, name });
      const want = d.spec?.replicas ?? 1;
      const st = d.status ?? {};
      if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return undefined;
      if (st.updatedReplicas !== want || st.availableReplicas !== want || st.replicas !== want) return undefined;
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items;
      return pods.length === want && pods.every((p) => !p.metadata?.deletionTimestamp) ? true : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export interface RolloutMeasure {
  /** When the restart was sent (ms since the epoch). */
  t0: number;
  durationS: number;
  service: LoadCounts;
  ingress: LoadCounts;
  /** The Service's EndpointSlices as the watch saw them during the rollout. */
  slices: readonly SliceEvent[];
}

/** Load through the ClusterIP and through the ingress-like client together, one rollout restart, counts. */
export async function measureRollout(kc: KubeConfig, namespace: string, name: string, clusterIp: string, load: LoadOptions): Promise<RolloutMeasure> {
  const apps = kc.makeApiClient(AppsV1Api);
  const svc = serviceLoad(clusterIp, 80, load);
  const ing = await ingressLoad(kc, namespace, name, load);
  let durationS = 0;
  let t0 = Date.now();
  try {
    await sleep(2000); // steady state before the rollout
    t0 = Date.now();
    await restart(apps, namespace, name);
    await waitRolledOut(kc, namespace, name);
    durationS = (Date.now() - t0) / 1000;
    await sleep(1000);
  } finally {
    await Promise.all([svc.stop(), ing.stop()]);
  }
  return { t0, durationS, service: svc.counts, ingress: ing.loop.counts, slices: ing.history };
}
