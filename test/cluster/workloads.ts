/**
 * Objects the e2e scenarios create: an app container, a cloud-sql-proxy sidecar, a Deployment around
 * them, Nodes that report a kubelet version, and lookups into the Pods the API server stored.
 */
import type { V1Container, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { SERVED_LABELS, TIMINGS } from './suite.js';

export const APP: V1Container = { name: 'app', image: 'registry.example/shop:1.0', ports: [{ containerPort: 8080 }] };
/** The cloud-sql-proxy v2 default image is distroless: no shell, no `sleep` binary. */
export const PROXY_DISTROLESS = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1';
export const PROXY_ALPINE = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1-alpine';

export const proxy = (image: string, name = 'cloud-sql-proxy'): V1Container => ({
  name,
  image,
  args: ['--port=5432', 'shop-project:europe-west1:shop-db'],
});

/** What the proxy must outlive (the app's preStop and drain) and the grace period the whole shutdown needs. */
export const PROXY_HOLD = TIMINGS.appPreStopSeconds + TIMINGS.drainSeconds;
export const NEEDED_GRACE = PROXY_HOLD + TIMINGS.proxyShutdownSeconds;
export const API_DEFAULT_GRACE = 30;

export function deployment(name: string, containers: V1Container[], extra: Partial<NonNullable<V1Deployment['spec']>> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      // SERVED_SERVICE routes to it, so the webhook treats port 8080 as receiving traffic.
      template: { metadata: { labels: { app: name, ...SERVED_LABELS } }, spec: { containers } },
      ...extra,
    },
  };
}

export const container = (pod: V1Pod, name: string): V1Container | undefined => pod.spec?.containers.find((c) => c.name === name);
export const initContainer = (pod: V1Pod, name: string): V1Container | undefined => pod.spec?.initContainers?.find((c) => c.name === name);

/**
 * A Node as a kubelet registers it, reduced to what the webhook reads: no kubelet runs, the API server
 * keeps the status given at creation, and nodeInfo's other fields may be empty.
 */
export const nodeWithKubelet = (name: string, kubeletVersion: string): V1Node => ({
  metadata: { name },
  status: { nodeInfo: { kubeletVersion } as NonNullable<NonNullable<V1Node['status']>['nodeInfo']> },
});
