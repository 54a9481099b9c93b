import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { containerEntries, runsAlongsideApp } from '../engine/containers.js';
import { knownServerImage, serverLaunch, type ServerImageName } from '../engine/images.js';
import type { Rule, RuleIssue } from '../engine/types.js';

/** The env var as the container sees it (the last entry of a name wins); valueFrom counts as set, value unknown. */
function envValue(c: V1Container, name: string): { set: boolean; value?: string } {
  const entry = (c.env ?? []).filter((e) => e.name === name).at(-1);
  if (!entry) return { set: false };
  if (entry.valueFrom) return { set: true };
  return entry.value ? { set: true, value: entry.value } : { set: false };
}

/** Set to a non-empty value, directly or through `<name>_FILE` (read by the entrypoints' file_env / *_FILE loop). */
const setOrFile = (c: V1Container, name: string) => envValue(c, name).set || envValue(c, `${name}_FILE`).set;

interface Requirement {
  /** Any one of these, set to a non-empty value, satisfies the entrypoint. */
  anyOf: string[];
  /** An env var whose value passes this test also satisfies it (a valueFrom, whose value is unknown, counts). */
  orValue?: { name: string; accepts: (value: string) => boolean; shown: string };
  /** What the entrypoint wants: 'root password' or 'password'. */
  what: string;
  /** What to suggest. */
  suggest: string;
  /** Checked on every start (Bitnami's setup.sh), not only on an empty data directory. */
  everyStart?: boolean;
  /** When the check applies at all; absent: always. Returns the reason to show, or undefined when it does not apply. */
  appliesWhen?(c: V1Container): string | undefined;
}

const fileVariants = (names: string[]) => names.flatMap((n) => [n, `${n}_FILE`]);

/** Bitnami's libvalidations.sh is_boolean_yes: 1, yes or true, any case. */
const isBooleanYes = (v: string) => /^(1|yes|true)$/i.test(v);
const ALLOW_EMPTY_PASSWORD = { name: 'ALLOW_EMPTY_PASSWORD', accepts: isBooleanYes, shown: 'ALLOW_EMPTY_PASSWORD=yes' };

/** The mysql entrypoint's docker_verify_minimum_env; also ps-entry.sh in percona-docker (percona-server-8.0). */
const MYSQL: Requirement = {
  anyOf: [...fileVariants(['MYSQL_ROOT_PASSWORD']), 'MYSQL_ALLOW_EMPTY_PASSWORD', 'MYSQL_RANDOM_ROOT_PASSWORD'],
  what: 'root password',
  suggest: 'MYSQL_ROOT_PASSWORD',
};

/**
 * The postgres entrypoint's docker_verify_minimum_env (empty POSTGRES_PASSWORD is an error unless
 * POSTGRES_HOST_AUTH_METHOD is trust); percona-docker's percona-distribution-postgresql entrypoint.sh is the same.
 */
const POSTGRES: Requirement = {
  anyOf: fileVariants(['POSTGRES_PASSWORD']),
  orValue: { name: 'POSTGRES_HOST_AUTH_METHOD', accepts: (v) => v === 'trust', shown: 'POSTGRES_HOST_AUTH_METHOD=trust' },
  what: 'superuser password',
  suggest: 'POSTGRES_PASSWORD',
};

/**
 * Bitnami's MySQL and MariaDB: libmysql.sh / libmariadb.sh mysql_validate, run by setup.sh on every start, requires
 * the root password (<FLAVOR>_ROOT_PASSWORD, mysql-env.sh / mariadb-env.sh; their *_FILE loop reads _FILE) unless
 * ALLOW_EMPTY_PASSWORD is yes, except on a replication slave (<FLAVOR>_REPLICATION_MODE=slave).
 */
function bitnamiMysql(flavor: 'MYSQL' | 'MARIADB'): Requirement {
  return {
    anyOf: fileVariants([`${flavor}_ROOT_PASSWORD`]),
    orValue: ALLOW_EMPTY_PASSWORD,
    what: 'root password',
    suggest: `${flavor}_ROOT_PASSWORD`,
    everyStart: true,
    appliesWhen: (c) => (envValue(c, `${flavor}_REPLICATION_MODE`).value === 'slave' ? undefined : ''),
  };
}

/**
 * What each image's entrypoint requires before it starts the server. Official images and Percona's check only an
 * empty data directory; Bitnami's setup.sh validates the env on every start.
 */
const REQUIREMENTS: Partial<Record<ServerImageName, Requirement>> = {
  mysql: MYSQL,
  percona: MYSQL,
  'percona/percona-server': MYSQL,
  mariadb: {
    anyOf: [
      ...fileVariants(['MARIADB_ROOT_PASSWORD', 'MARIADB_ROOT_PASSWORD_HASH', 'MYSQL_ROOT_PASSWORD']),
      'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD',
      'MARIADB_RANDOM_ROOT_PASSWORD',
      'MYSQL_ALLOW_EMPTY_PASSWORD',
      'MYSQL_RANDOM_ROOT_PASSWORD',
    ],
    what: 'root password',
    suggest: 'MARIADB_ROOT_PASSWORD',
  },
  postgres: POSTGRES,
  'percona/percona-distribution-postgresql': POSTGRES,
  // libpostgresql.sh postgresql_validate (setup.sh, every start): POSTGRESQL_PASSWORD, which postgresql-env.sh
  // also takes from POSTGRES_PASSWORD, unless ALLOW_EMPTY_PASSWORD is yes.
  'bitnami/postgresql': {
    anyOf: fileVariants(['POSTGRESQL_PASSWORD', 'POSTGRES_PASSWORD']),
    orValue: ALLOW_EMPTY_PASSWORD,
    what: 'password',
    suggest: 'POSTGRESQL_PASSWORD',
    everyStart: true,
  },
  'bitnami/mysql': bitnamiMysql('MYSQL'),
  'bitnami/mariadb': bitnamiMysql('MARIADB'),
  // libmongodb.sh mongodb_validate: without users (MONGODB_USERNAME, MONGODB_EXTRA_USERNAMES) or a primary replica
  // set member, MongoDB starts without authentication and needs no root password.
  'bitnami/mongodb': {
    anyOf: fileVariants(['MONGODB_ROOT_PASSWORD']),
    orValue: ALLOW_EMPTY_PASSWORD,
    what: 'root password',
    suggest: 'MONGODB_ROOT_PASSWORD',
    everyStart: true,
    appliesWhen: (c) => {
      const user = ['MONGODB_USERNAME', 'MONGODB_EXTRA_USERNAMES'].find((n) => setOrFile(c, n));
      if (user) return `it sets ${user}, which turns on authentication`;
      return envValue(c, 'MONGODB_REPLICA_SET_MODE').value === 'primary' ? 'it is a replica set primary' : undefined;
    },
  },
  // libredis.sh redis_validate (setup.sh, every start): REDIS_PASSWORD unless ALLOW_EMPTY_PASSWORD is yes.
  'bitnami/redis': {
    anyOf: fileVariants(['REDIS_PASSWORD']),
    orValue: ALLOW_EMPTY_PASSWORD,
    what: 'password',
    suggest: 'REDIS_PASSWORD',
    everyStart: true,
  },
};

function satisfied(c: V1Container, req: Requirement): boolean {
  // envFrom may bring any variable from a ConfigMap or Secret we cannot see.
  if ((c.envFrom ?? []).length > 0) return true;
  if (req.anyOf.some((n) => envValue(c, n).set)) return true;
  if (!req.orValue) return false;
  const v = envValue(c, req.orValue.name);
  // Bitnami's *_FILE loop reads ALLOW_EMPTY_PASSWORD_FILE too: a file's content is unknown here.
  if (req.everyStart && envValue(c, `${req.orValue.name}_FILE`).set) return true;
  return v.set && (v.value === undefined || req.orValue.accepts(v.value));
}

/** Whether the container mounts an existing claim, which may already hold an initialised database. */
function mountsExistingClaim(c: V1Container, spec: V1PodSpec): boolean {
  const claims = new Set((spec.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => v.name));
  return (c.volumeMounts ?? []).some((m) => claims.has(m.name));
}

export const databaseEnvMissing: Rule = {
  id: 'database-env-missing',
  summary:
    'A database image (official, Percona or Bitnami) lacks the password env its entrypoint requires: CrashLoopBackOff.',
  defaultAction: 'deny',
  check(w) {
    const issues: RuleIssue[] = [];
    for (const e of containerEntries(w.podSpec, w.pointer)) {
      if (!runsAlongsideApp(e)) continue;
      const image = knownServerImage(e.container.image);
      const req = image && REQUIREMENTS[image.name];
      // Only the image's entrypoint checks the env; a client or script run from the image needs none of it.
      if (!image || !req || serverLaunch(e.container, image) !== 'entrypoint') continue;
      const because = req.appliesWhen ? req.appliesWhen(e.container) : '';
      if (because === undefined || satisfied(e.container, req)) continue;
      // The official and Percona checks run only on an empty data directory: a claim that already holds a
      // database starts without them. Bitnami's run on every start.
      const existing = !req.everyStart && mountsExistingClaim(e.container, w.podSpec);
      const names = [...req.anyOf.filter((n) => !n.endsWith('_FILE')), ...(req.orValue ? [req.orValue.shown] : [])];
      const when = req.everyStart ? 'on every start its entrypoint exits' : 'on an empty data directory its entrypoint exits';
      issues.push({
        container: e.container.name,
        path: `${e.path}/env`,
        ...(existing ? { warnOnly: true } : {}),
        message:
          `container '${e.container.name}' (${image.name}) sets no ${req.what}${because ? ` although ${because}` : ''}: ` +
          `${when} (CrashLoopBackOff). ` +
          (existing ? 'The mounted claim may already hold a database, which needs none; a new or empty one does. ' : '') +
          `Set one of ${names.join(', ')}; best ${req.suggest} from a Secret (valueFrom.secretKeyRef).`,
      });
    }
    return issues;
  },
};
