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

export const SERVER_IMAGE_NAMES = ['mysql', 'mariadb', 'postgres', 'redis', 'mongo', 'rabbitmq', 'elasticsearch'] as const;
export type ServerImageName = (typeof SERVER_IMAGE_NAMES)[number];

/** What the official image runs and how its entrypoint reads `args` (from the images' docker-entrypoint.sh). */
export interface ServerImage {
  name: ServerImageName;
  /** Programs that are the server (argv[0] base name). */
  serverBinaries: readonly string[];
  /** Whether the entrypoint hands a first argument like this to the server (mysql: `--flag` runs mysqld --flag). */
  argIsServerOption(first: string): boolean;
  /** Options that make the server print something and exit instead of serving. */
  exitOptions: readonly string[];
}

const startsWithDash = (a: string) => a.startsWith('-');
/** mysqld and mariadbd print and exit with these (the entrypoints' _mysql_want_help). */
const MYSQLD_EXIT_OPTIONS = ['-?', '--help', '--print-defaults', '-V', '--version'];
const never = () => false;

const SERVER_IMAGES: Record<ServerImageName, ServerImage> = {
  mysql: {
    name: 'mysql',
    serverBinaries: ['mysqld'],
    argIsServerOption: startsWithDash,
    exitOptions: MYSQLD_EXIT_OPTIONS,
  },
  mariadb: {
    name: 'mariadb',
    serverBinaries: ['mariadbd', 'mysqld'],
    argIsServerOption: startsWithDash,
    exitOptions: MYSQLD_EXIT_OPTIONS,
  },
  postgres: {
    name: 'postgres',
    serverBinaries: ['postgres'],
    argIsServerOption: startsWithDash,
    exitOptions: ['-?', '--help', '--describe-config', '-V', '--version'],
  },
  redis: {
    name: 'redis',
    serverBinaries: ['redis-server', 'redis-sentinel'],
    // The redis entrypoint also treats `something.conf` as a config file for redis-server.
    argIsServerOption: (a) => a.startsWith('-') || a.endsWith('.conf'),
    exitOptions: ['-h', '--help', '-v', '--version', '--test-memory', '--check-system'],
  },
  mongo: {
    name: 'mongo',
    serverBinaries: ['mongod', 'mongos'],
    argIsServerOption: startsWithDash,
    exitOptions: ['-h', '--help', '--version'],
  },
  // The rabbitmq and elasticsearch entrypoints run whatever args name; they prepend nothing to options.
  rabbitmq: {
    name: 'rabbitmq',
    serverBinaries: ['rabbitmq-server'],
    argIsServerOption: never,
    exitOptions: [],
  },
  elasticsearch: {
    name: 'elasticsearch',
    serverBinaries: ['elasticsearch', 'eswrapper'],
    argIsServerOption: never,
    exitOptions: ['-h', '--help', '-V', '--version'],
  },
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

/** The official database / server image an image reference names, if any. Tags and digests do not matter. */
export function officialServerImage(image: string | undefined): ServerImage | undefined {
  if (!image) return undefined;
  const ref = parseImageReference(image);
  if (ref.registry === 'docker.elastic.co' && ref.repository === 'elasticsearch/elasticsearch') return SERVER_IMAGES.elasticsearch;
  for (const [registry, prefix] of MIRROR_PREFIXES) {
    if (ref.registry !== registry || !ref.repository.startsWith(prefix)) continue;
    const name = ref.repository.slice(prefix.length);
    return (SERVER_IMAGE_NAMES as readonly string[]).includes(name) ? SERVER_IMAGES[name as ServerImageName] : undefined;
  }
  return undefined;
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const ENTRYPOINT_SCRIPT = 'docker-entrypoint.sh';

/**
 * Whether a container of a known server image starts that server, and how:
 * - `entrypoint`: through the image's entrypoint (no command, or the command is docker-entrypoint.sh), which also
 *   runs the first-start setup that checks the env (root password ...);
 * - `direct`: the command is the server binary itself, bypassing the entrypoint;
 * - undefined: it runs another program (a client, a backup script) or only prints help/version.
 * In Kubernetes `command` replaces the image ENTRYPOINT and `args` its CMD; empty lists count as unset.
 */
export function serverLaunch(c: V1Container, image: ServerImage): 'entrypoint' | 'direct' | undefined {
  const command = c.command ?? [];
  const args = c.args ?? [];
  const argv = [...command, ...args];
  if (argv.some((a) => image.exitOptions.includes(a))) return undefined;
  if (command.length > 0 && baseName(command[0]!) !== ENTRYPOINT_SCRIPT) {
    return image.serverBinaries.includes(baseName(command[0]!)) ? 'direct' : undefined;
  }
  // Through the entrypoint: it receives the rest of the command and args; with no command and no args, the
  // image CMD (the server). A command without args drops the image CMD, so a bare entrypoint runs nothing.
  const passed = command.length > 0 ? argv.slice(1) : args;
  const first = passed[0];
  if (first === undefined) return command.length > 0 ? undefined : 'entrypoint';
  // The entrypoints run their setup for options and the bare binary name; a path to the binary is only exec'd.
  if (image.argIsServerOption(first) || image.serverBinaries.includes(first)) return 'entrypoint';
  return image.serverBinaries.includes(baseName(first)) ? 'direct' : undefined;
}
