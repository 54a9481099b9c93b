import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { containerEntries, runsAlongsideApp } from '../engine/containers.js';
import { officialServerImage, serverLaunch, type ServerImageName } from '../engine/images.js';
import type { Rule, RuleIssue } from '../engine/types.js';

interface Requirement {
  /** Any one of these, set to a non-empty value, satisfies the entrypoint. */
  anyOf: string[];
  /** An env var with this exact value also satisfies it. */
  orEquals?: [name: string, value: string];
  /** What to suggest. */
  suggest: string;
}

const fileVariants = (names: string[]) => names.flatMap((n) => [n, `${n}_FILE`]);

/**
 * What each official image's docker-entrypoint.sh requires before initialising an empty data directory
 * (docker_verify_minimum_env). `_FILE` variants are read by its file_env. Checked with `-z`: empty is unset.
 */
const REQUIREMENTS: Partial<Record<ServerImageName, Requirement>> = {
  mysql: {
    anyOf: [...fileVariants(['MYSQL_ROOT_PASSWORD']), 'MYSQL_ALLOW_EMPTY_PASSWORD', 'MYSQL_RANDOM_ROOT_PASSWORD'],
    suggest: 'MYSQL_ROOT_PASSWORD',
  },
  mariadb: {
    anyOf: [
      ...fileVariants(['MARIADB_ROOT_PASSWORD', 'MARIADB_ROOT_PASSWORD_HASH', 'MYSQL_ROOT_PASSWORD']),
      'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD',
      'MARIADB_RANDOM_ROOT_PASSWORD',
      'MYSQL_ALLOW_EMPTY_PASSWORD',
      'MYSQL_RANDOM_ROOT_PASSWORD',
    ],
    suggest: 'MARIADB_ROOT_PASSWORD',
  },
  postgres: {
    anyOf: fileVariants(['POSTGRES_PASSWORD']),
    orEquals: ['POSTGRES_HOST_AUTH_METHOD', 'trust'],
    suggest: 'POSTGRES_PASSWORD',
  },
};

/** The env var as the container sees it (the last entry of a name wins); valueFrom counts as set. */
function envValue(c: V1Container, name: string): { set: boolean; value?: string } {
  const entry = (c.env ?? []).filter((e) => e.name === name).at(-1);
  if (!entry) return { set: false };
  if (entry.valueFrom) return { set: true };
  return entry.value ? { set: true, value: entry.value } : { set: false };
}

function satisfied(c: V1Container, req: Requirement): boolean {
  // envFrom may bring any variable from a ConfigMap or Secret we cannot see.
  if ((c.envFrom ?? []).length > 0) return true;
  if (req.anyOf.some((n) => envValue(c, n).set)) return true;
  if (!req.orEquals) return false;
  const v = envValue(c, req.orEquals[0]);
  return v.set && (v.value === undefined || v.value === req.orEquals[1]);
}

/** Whether the container mounts an existing claim, which may already hold an initialised database. */
function mountsExistingClaim(c: V1Container, spec: V1PodSpec): boolean {
  const claims = new Set((spec.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => v.name));
  return (c.volumeMounts ?? []).some((m) => claims.has(m.name));
}

export const databaseEnvMissing: Rule = {
  id: 'database-env-missing',
  summary: 'An official mysql, mariadb or postgres image lacks the root password env it needs: CrashLoopBackOff.',
  defaultAction: 'deny',
  check(w) {
    const issues: RuleIssue[] = [];
    for (const e of containerEntries(w.podSpec, w.pointer)) {
      if (!runsAlongsideApp(e)) continue;
      const image = officialServerImage(e.container.image);
      const req = image && REQUIREMENTS[image.name];
      // Only the image's entrypoint checks the env; a client or script run from the image needs none of it.
      if (!image || !req || serverLaunch(e.container, image) !== 'entrypoint') continue;
      if (satisfied(e.container, req)) continue;
      const existing = mountsExistingClaim(e.container, w.podSpec);
      const names = [...req.anyOf.filter((n) => !n.endsWith('_FILE')), ...(req.orEquals ? [`${req.orEquals.join('=')}`] : [])];
      issues.push({
        container: e.container.name,
        path: `${e.path}/env`,
        // The check runs only on an empty data directory: a claim that already holds a database starts without it.
        ...(existing ? { warnOnly: true } : {}),
        message:
          `container '${e.container.name}' (${image.name}) sets no root password: on an empty data directory its ` +
          'entrypoint exits (CrashLoopBackOff). ' +
          (existing ? 'The mounted claim may already hold a database, which needs none; a new or empty one does. ' : '') +
          `Set one of ${names.join(', ')}; best ${req.suggest} from a Secret (valueFrom.secretKeyRef).`,
      });
    }
    return issues;
  },
};
