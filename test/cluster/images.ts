/**
 * The node's images: built by scripts/node-images.sh from test/node/images (static Go programs) and
 * busybox-static into docker-archives cached outside the repo, then imported into our containerd's
 * k8s.io namespace (the CRI's), so Pods run them with imagePullPolicy: Never.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './controlPlane.js';
import type { Containerd } from './containerd.js';

export interface NodeImages {
  /** Cache directory with the archives and the database server binary. */
  readonly dir: string;
  readonly pause: string;
  readonly app: string;
  /** The same app image under an -alpine tag (it has busybox sh and sleep). */
  readonly appAlpine: string;
  /** cloud-sql-proxy:2.14.1 (distroless: no shell, no sleep) */
  readonly proxy: string;
  /** cloud-sql-proxy:2.14.1-alpine (busybox sh and sleep) */
  readonly proxyAlpine: string;
  /** postgres:16 running the test database server */
  readonly postgres: string;
  readonly archives: readonly string[];
  /** The database server as a host binary. */
  readonly dbserver: string;
}

/** Build (or reuse) the archives: `scripts/node-images.sh`, or $GRACEKEEPER_NODE_IMAGES when set. */
export function buildImages(): NodeImages {
  const dir =
    process.env.GRACEKEEPER_NODE_IMAGES ??
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'node-images.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 }).trim();
  const meta = JSON.parse(readFileSync(join(dir, 'images.json'), 'utf8')) as Omit<NodeImages, 'dir' | 'dbserver'>;
  return { ...meta, dir, dbserver: join(dir, 'dbserver') };
}

/** Import every archive into containerd's k8s.io namespace; returns the image names containerd lists. */
export function importImages(ctrd: Containerd, images: NodeImages): string[] {
  for (const a of images.archives) ctrd.ctr(['images', 'import', join(images.dir, a)], 120_000);
  return ctrd
    .ctr(['images', 'ls', '-q'])
    .split('\n')
    .filter(Boolean);
}
