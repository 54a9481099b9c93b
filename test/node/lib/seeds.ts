/**
 * The seeds' workloads, as users wrote them (before Gracekeeper), on the images built here:
 * - seed 000: a 3-replica Deployment, the HTTP app (readiness probe, no preStop) and a cloud-sql-proxy
 *   sidecar without preStop, behind a Service;
 * - seed 002: the app alone, no readinessProbe and no preStop, exiting at once on SIGTERM;
 * - seed 003: a database server (postgres:16) in initContainers, which never completes;
 * - a Job whose app runs its queries through a proxy sidecar;
 * - a postgres:16 Deployment without the env its entrypoint requires.
 * Every container uses imagePullPolicy: Never (the images are imported, no registry is reachable).
 */
import type { V1Container, V1Deployment, V1Job, V1PodSpec, V1Service } from '@kubernetes/client-node';

/** The database the proxies forward to: a host process on the node IP (dbserver). */
export const DB_HOST = '198.18.0.1';
export const DB_PORT = 15432;
export const INSTANCE = 'shop-project:europe-west1:shop-db';

export interface SeedImages {
  app: string;
  proxy: string;
  postgres: string;
}

const podDefaults: Partial<V1PodSpec> = { enableServiceLinks: false, automountServiceAccountToken: false };

export const proxyContainer = (image: string): V1Container => ({
  name: 'cloud-sql-proxy',
  image,
  imagePullPolicy: 'Never',
  args: ['--port=5432', INSTANCE],
  env: [{ name: 'UPSTREAM', value: `${DB_HOST}:${DB_PORT}` }],
});

export const appContainer = (image: string, env: Record<string, string>, extra: Partial<V1Container> = {}): V1Container => ({
  name: 'app',
  image,
  imagePullPolicy: 'Never',
  ports: [{ name: 'http', containerPort: 8080 }],
  env: Object.entries(env).map(([name, value]) => ({ name, value })),
  ...extra,
});

function deployment(name: string, replicas: number, spec: V1PodSpec): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { ...podDefaults, ...spec } },
    },
  };
}

export function service(name: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

/** Seed 000: app + proxy sidecar, neither with a preStop; the app has a readiness probe. */
export function seed000(name: string, images: { app: string; proxy: string }): V1Deployment {
  return deployment(name, 3, {
    containers: [
      appContainer(
        images.app,
        { DB_ADDR: '127.0.0.1:5432', STARTUP_MS: '1000', DRAIN_SECONDS: '10' },
        { readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 } },
      ),
      proxyContainer(images.proxy),
    ],
  });
}

/** Seed 002: the app alone, no readinessProbe, no preStop, exits at once on SIGTERM. */
export function seed002(name: string, appImage: string): V1Deployment {
  return deployment(name, 3, {
    containers: [appContainer(appImage, { DB_ADDR: `${DB_HOST}:${DB_PORT}`, STARTUP_MS: '1000', SHUTDOWN: 'immediate' })],
  });
}

/** Seed 003: the database server in initContainers (it never exits, so the app never starts). */
export function seed003(name: string, images: { app: string; postgres: string }): V1Deployment {
  return deployment(name, 1, {
    initContainers: [
      {
        name: 'db',
        image: images.postgres,
        imagePullPolicy: 'Never',
        env: [{ name: 'POSTGRES_HOST_AUTH_METHOD', value: 'trust' }],
        ports: [{ containerPort: 5432 }],
      },
    ],
    containers: [appContainer(images.app, { DB_ADDR: '127.0.0.1:5432' })],
  });
}

/** A Job: the app runs its queries through the proxy sidecar, then exits 0. */
export function jobWithProxy(name: string, images: { app: string; proxy: string }): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { job: name } },
        spec: {
          ...podDefaults,
          restartPolicy: 'Never',
          containers: [
            { name: 'report', image: images.app, imagePullPolicy: 'Never', env: [{ name: 'JOB_QUERIES', value: '20' }] },
            proxyContainer(images.proxy),
          ],
        },
      },
    },
  };
}

/** postgres:16 without POSTGRES_PASSWORD: its entrypoint exits 1, the container crash-loops. */
export function databaseWithoutEnv(name: string, postgresImage: string): V1Deployment {
  return deployment(name, 1, {
    containers: [{ name: 'db', image: postgresImage, imagePullPolicy: 'Never', ports: [{ containerPort: 5432 }] }],
  });
}
