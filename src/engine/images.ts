import type { V1Container } from '@kubernetes/client-node';

/** An image reference split the way Docker normalises it: `redis` is `docker.io/library/redis`. */
export interface ImageReference {
  /** Lower-cased registry host; `docker.io` for Docker Hub in any of its spellings. */
  registry: string;
  /** Repository path without registry, e.g. `library/redis`, `bitnami/redis`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Splits an image reference into registry, repository, tag and digest (no validation beyond that). */
export function parseImageReference(image: string): ImageReference {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first.toLowerCase() : 'docker.io';
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (DOCKER_HUB_ALIASES.has(registry)) registry = 'docker.io';
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/**
 * Server images whose entrypoint and CMD are known: Docker's official images (mirrors included), Percona's MySQL
 * and PostgreSQL images, and Bitnami's database images. Keys are the names used in messages.
 */
export const SERVER_IMAGE_NAMES = [
  'mysql',
  'mariadb',
  'postgres',
  'redis',
  'mongo',
  'rabbitmq',
  'elasticsearch',
  'nginx',
  'httpd',
  'memcached',
  'percona',
  'percona/percona-server',
  'percona/percona-distribution-postgresql',
  'bitnami/postgresql',
  'bitnami/mysql',
  'bitnami/mariadb',
  'bitnami/mongodb',
  'bitnami/redis',
] as const;
export type ServerImageName = (typeof SERVER_IMAGE_NAMES)[number];

/** What an image runs and how its entrypoint reads `args` (from the images' entrypoint scripts and Dockerfiles). */
export interface ServerImage {
  name: ServerImageName;
  /** Docker's official image (library/), or another publisher's. */
  official: boolean;
  /** A database, broker or search server, which keeps data; web servers and memcached do not. */
  holdsData: boolean;
  /** Base name of the image ENTRYPOINT script; undefined when the image has none and its CMD runs directly. */
  entrypoint?: string;
  /** The image CMD: what runs when a container gives neither command nor args. */
  cmd: readonly string[];
  /** Programs that are the server (argv[0] base name). */
  serverBinaries: readonly string[];
  /** Whether the entrypoint, given this first argument, runs its setup and starts the server. */
  entrypointStartsServer(first: string): boolean;
  /** Options that make the server print something and exit, or go to the background, instead of serving. */
  exitOptions: readonly string[];
  /** Whether the server started with this argv (program first) stays in the foreground; absent: always. */
  staysInForeground?(argv: readonly string[]): boolean;
}

const startsWithDash = (a: string) => a.startsWith('-');
/** mysqld and mariadbd print and exit with these (the entrypoints' _mysql_want_help). */
const MYSQLD_EXIT_OPTIONS = ['-?', '--help', '--print-defaults', '-V', '--version'];
/** postgres prints and exits with these (the entrypoints' _pg_want_help). */
const POSTGRES_EXIT_OPTIONS = ['-?', '--help', '--describe-config', '-V', '--version'];
const REDIS_EXIT_OPTIONS = ['-h', '--help', '-v', '--version', '--test-memory', '--check-system'];
const MONGOD_EXIT_OPTIONS = ['-h', '--help', '--version'];

/** Official-image entrypoints: an option or the bare server name runs the setup and the server. */
function officialEntrypoint(binaries: readonly string[], optionStartsServer = true): (first: string) => boolean {
  return (first) => (optionStartsServer && startsWithDash(first)) || binaries.includes(first);
}

function official(
  name: ServerImageName,
  holdsData: boolean,
  cmd: readonly string[],
  serverBinaries: readonly string[],
  exitOptions: readonly string[],
  extra: Partial<ServerImage> = {},
): ServerImage {
  return {
    name,
    official: true,
    holdsData,
    entrypoint: 'docker-entrypoint.sh',
    cmd,
    serverBinaries,
    entrypointStartsServer: officialEntrypoint(serverBinaries),
    exitOptions,
    ...extra,
  };
}

/** nginx serves in the foreground only with `daemon off;` (the image CMD passes it with -g); otherwise it forks and exits. */
function nginxInForeground(argv: readonly string[]): boolean {
  return argv.some((a, i) => (a === '-g' && /daemon\s+off\s*;/.test(argv[i + 1] ?? '')) || /^-g.*daemon\s+off\s*;/.test(a));
}

/** httpd forks and exits unless started with -DFOREGROUND (httpd-foreground adds it) or -X (debug mode). */
function httpdInForeground(argv: readonly string[]): boolean {
  if (baseName(argv[0] ?? '') === 'httpd-foreground') return true;
  return argv.some((a, i) => a === '-DFOREGROUND' || a === '-X' || (a === '-D' && argv[i + 1] === 'FOREGROUND'));
}

/** redis-server forks with `--daemonize yes`. */
function redisInForeground(argv: readonly string[]): boolean {
  return !argv.some((a, i) => a === '--daemonize' && argv[i + 1] === 'yes');
}

/**
 * Bitnami images: ENTRYPOINT /opt/bitnami/scripts/<module>/entrypoint.sh, CMD /opt/bitnami/scripts/<module>/run.sh.
 * The entrypoint runs setup.sh (which validates the env on every start, not only on an empty data directory)
 * when it is given run.sh, then execs its arguments; run.sh execs the server in the foreground.
 */
function bitnami(name: ServerImageName, module: string, binaries: readonly string[], exitOptions: readonly string[]): ServerImage {
  const run = `/opt/bitnami/scripts/${module}/run.sh`;
  return {
    name,
    official: false,
    holdsData: true,
    entrypoint: 'entrypoint.sh',
    cmd: [run],
    serverBinaries: ['run.sh', ...binaries],
    entrypointStartsServer: (first) => first === run,
    exitOptions,
  };
}

const SERVER_IMAGES: Record<ServerImageName, ServerImage> = {
  mysql: official('mysql', true, ['mysqld'], ['mysqld'], MYSQLD_EXIT_OPTIONS),
  mariadb: official('mariadb', true, ['mariadbd'], ['mariadbd', 'mysqld'], MYSQLD_EXIT_OPTIONS),
  postgres: official('postgres', true, ['postgres'], ['postgres'], POSTGRES_EXIT_OPTIONS),
  // The redis entrypoint also treats `something.conf` as a config file for redis-server.
  redis: official('redis', true, ['redis-server'], ['redis-server', 'redis-sentinel'], REDIS_EXIT_OPTIONS, {
    entrypointStartsServer: (a) => a.startsWith('-') || a.endsWith('.conf') || ['redis-server', 'redis-sentinel'].includes(a),
    staysInForeground: redisInForeground,
  }),
  mongo: official('mongo', true, ['mongod'], ['mongod', 'mongos'], MONGOD_EXIT_OPTIONS),
  // The rabbitmq and elasticsearch entrypoints run whatever args name; they prepend nothing to options.
  rabbitmq: official('rabbitmq', true, ['rabbitmq-server'], ['rabbitmq-server'], [], {
    entrypointStartsServer: officialEntrypoint(['rabbitmq-server'], false),
  }),
  elasticsearch: official('elasticsearch', true, ['eswrapper'], ['elasticsearch', 'eswrapper'], ['-h', '--help', '-V', '--version'], {
    entrypointStartsServer: officialEntrypoint(['elasticsearch', 'eswrapper'], false),
  }),
  // nginx: ENTRYPOINT /docker-entrypoint.sh (runs /docker-entrypoint.d when $1 is nginx or nginx-debug, then execs
  // its arguments, options included: it prepends nothing), CMD ["nginx", "-g", "daemon off;"].
  nginx: official('nginx', false, ['nginx', '-g', 'daemon off;'], ['nginx', 'nginx-debug'], ['-?', '-h', '-v', '-V', '-t', '-T', '-s'], {
    entrypointStartsServer: officialEntrypoint(['nginx', 'nginx-debug'], false),
    staysInForeground: nginxInForeground,
  }),
  // httpd: no ENTRYPOINT; CMD ["httpd-foreground"], a script that execs `httpd -DFOREGROUND "$@"`.
  httpd: {
    name: 'httpd',
    official: true,
    holdsData: false,
    cmd: ['httpd-foreground'],
    serverBinaries: ['httpd-foreground', 'httpd'],
    entrypointStartsServer: () => false,
    exitOptions: ['-h', '-v', '-V', '-t', '-l', '-L', '-M', '-S', '-k'],
    staysInForeground: httpdInForeground,
  },
  // memcached: ENTRYPOINT docker-entrypoint.sh prepends memcached to options; CMD ["memcached"]; -d daemonizes.
  memcached: official('memcached', false, ['memcached'], ['memcached'], ['-h', '--help', '-V', '--version', '-i', '--license', '-d', '--daemon']),
  // docker-library's percona image (deprecated, still pulled): the mysql entrypoint.
  percona: official('percona', true, ['mysqld'], ['mysqld'], MYSQLD_EXIT_OPTIONS),
  // percona-docker percona-server-8.0/ps-entry.sh, copied to /docker-entrypoint.sh; CMD ["mysqld"]. It prepends
  // mysqld to options and runs its setup when $1 is mysqld, like the official mysql image.
  'percona/percona-server': { ...official('percona/percona-server', true, ['mysqld'], ['mysqld'], MYSQLD_EXIT_OPTIONS), official: false },
  // percona-docker percona-distribution-postgresql-17/entrypoint.sh at /entrypoint.sh; CMD ["postgres"]; the
  // official postgres entrypoint's logic.
  'percona/percona-distribution-postgresql': {
    ...official('percona/percona-distribution-postgresql', true, ['postgres'], ['postgres'], POSTGRES_EXIT_OPTIONS),
    official: false,
    entrypoint: 'entrypoint.sh',
  },
  'bitnami/postgresql': bitnami('bitnami/postgresql', 'postgresql', ['postgres'], POSTGRES_EXIT_OPTIONS),
  'bitnami/mysql': bitnami('bitnami/mysql', 'mysql', ['mysqld'], MYSQLD_EXIT_OPTIONS),
  'bitnami/mariadb': bitnami('bitnami/mariadb', 'mariadb', ['mariadbd', 'mysqld'], MYSQLD_EXIT_OPTIONS),
  'bitnami/mongodb': bitnami('bitnami/mongodb', 'mongodb', ['mongod'], MONGOD_EXIT_OPTIONS),
  'bitnami/redis': { ...bitnami('bitnami/redis', 'redis', ['redis-server'], REDIS_EXIT_OPTIONS), staysInForeground: redisInForeground },
};

/**
 * Repositories that hold the official images, besides Docker Hub's `library/`: well-known mirrors of the same
 * images, and Elastic's own registry (the Docker Hub image is built from it).
 */
const MIRROR_PREFIXES: ReadonlyArray<[registry: string, prefix: string]> = [
  ['docker.io', 'library/'],
  ['mirror.gcr.io', 'library/'],
  ['public.ecr.aws', 'docker/library/'],
];

const OFFICIAL_NAMES = new Set<string>(['mysql', 'mariadb', 'postgres', 'redis', 'mongo', 'rabbitmq', 'elasticsearch', 'nginx', 'httpd', 'memcached', 'percona']);

/**
 * Other publishers' repositories: Percona's on Docker Hub; Bitnami's on Docker Hub (bitnami/, and bitnamilegacy/
 * where Bitnami moved its versioned images in 2025) and on Amazon ECR Public.
 */
const PUBLISHER_REPOSITORIES: ReadonlyArray<[registry: string, repository: string, name: ServerImageName]> = [
  ['docker.io', 'percona/percona-server', 'percona/percona-server'],
  ['docker.io', 'percona/percona-distribution-postgresql', 'percona/percona-distribution-postgresql'],
  ...(['postgresql', 'mysql', 'mariadb', 'mongodb', 'redis'] as const).flatMap((m) =>
    [
      ['docker.io', `bitnami/${m}`],
      ['docker.io', `bitnamilegacy/${m}`],
      ['public.ecr.aws', `bitnami/${m}`],
    ].map(([registry, repository]) => [registry!, repository!, `bitnami/${m}` as ServerImageName] as [string, string, ServerImageName]),
  ),
];

/** The known server image an image reference names (official, Percona or Bitnami), if any. Tags and digests do not matter. */
export function knownServerImage(image: string | undefined): ServerImage | undefined {
  if (!image) return undefined;
  const ref = parseImageReference(image);
  if (ref.registry === 'docker.elastic.co' && ref.repository === 'elasticsearch/elasticsearch') return SERVER_IMAGES.elasticsearch;
  for (const [registry, repository, name] of PUBLISHER_REPOSITORIES) {
    if (ref.registry === registry && ref.repository === repository) return SERVER_IMAGES[name];
  }
  for (const [registry, prefix] of MIRROR_PREFIXES) {
    if (ref.registry !== registry || !ref.repository.startsWith(prefix)) continue;
    const name = ref.repository.slice(prefix.length);
    return OFFICIAL_NAMES.has(name) ? SERVER_IMAGES[name as ServerImageName] : undefined;
  }
  return undefined;
}

/**
 * The official database / server image an image reference names, if any: Docker's official images of servers
 * that keep data (mysql, mariadb, postgres, redis, mongo, rabbitmq, elasticsearch). Tags and digests do not matter.
 */
export function officialServerImage(image: string | undefined): ServerImage | undefined {
  const known = knownServerImage(image);
  return known && known.official && known.holdsData ? known : undefined;
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * Whether a container of a known server image starts that server in the foreground, and how:
 * - `entrypoint`: through the image's entrypoint, given an argument that makes it run its first-start setup (the
 *   setup that checks the env: root password ...) and start the server;
 * - `direct`: the server binary itself (or the image's run script), bypassing the entrypoint's setup;
 * - undefined: it runs another program (a client, a backup script), only prints help/version, or forks the
 *   server into the background and exits.
 * In Kubernetes `command` replaces the image ENTRYPOINT and `args` its CMD; empty lists count as unset, and a
 * command without args drops the image CMD.
 */
export function serverLaunch(c: V1Container, image: ServerImage): 'entrypoint' | 'direct' | undefined {
  const command = c.command ?? [];
  const args = c.args ?? [];
  if ([...command, ...args].some((a) => image.exitOptions.includes(a))) return undefined;
  let argv: string[];
  if (command.length > 0) argv = [...command, ...args];
  else argv = [...(image.entrypoint ? [image.entrypoint] : []), ...(args.length > 0 ? args : image.cmd)];
  let launch: 'entrypoint' | 'direct' | undefined;
  let server: string[] = argv;
  if (image.entrypoint && baseName(argv[0] ?? '') === image.entrypoint) {
    // The entrypoint receives the rest; a bare entrypoint runs nothing.
    const passed = argv.slice(1);
    const first = passed[0];
    if (first === undefined) return undefined;
    if (image.entrypointStartsServer(first)) {
      launch = 'entrypoint';
      server = image.serverBinaries.includes(first) || !startsWithDash(first) ? passed : [image.serverBinaries[0]!, ...passed];
    } else if (image.serverBinaries.includes(baseName(first))) {
      // The entrypoints run their setup for the bare binary name; a path to the binary is only exec'd.
      launch = 'direct';
      server = passed;
    }
  } else if (image.serverBinaries.includes(baseName(argv[0] ?? ''))) {
    launch = 'direct';
  }
  if (!launch) return undefined;
  return !image.staysInForeground || image.staysInForeground(server) ? launch : undefined;
}
