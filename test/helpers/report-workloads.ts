/**
 * The Deployment the report tests (unit and e2e) build their namespaces from: a served app whose shutdown is
 * right, so the only findings are the ones a test turns on: `dropsAllPods` (rollout-drops-all-pods, deny) and
 * `probe: false` (readiness-probe-missing, warn, fixed by mutate).
 */
import type { V1Deployment } from '@kubernetes/client-node';

export interface ReportDeploymentOptions {
  dropsAllPods?: boolean;
  probe?: boolean;
  /** Labels of the pod template (and the selector); a Service selecting them routes to port 8080. */
  labels: Record<string, string>;
}

export function reportDeployment(name: string, opts: ReportDeploymentOptions): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      ...(opts.dropsAllPods ? { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%', maxSurge: 0 } } } : {}),
      selector: { matchLabels: opts.labels },
      template: {
        metadata: { labels: opts.labels },
        spec: {
          terminationGracePeriodSeconds: 35,
          containers: [
            {
              name: 'app',
              image: 'registry.example/web:1.0',
              ports: [{ containerPort: 8080 }],
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              ...(opts.probe === false ? {} : { readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }),
            },
          ],
        },
      },
    },
  };
}
