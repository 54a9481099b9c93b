import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The node flags the container image runs the webhook with: the arguments between the node binary and
 * `dist/main.js` in the Dockerfile's exec-form ENTRYPOINT. The bench, the end-to-end suite and the faults run the
 * webhook as shipped, so they read them from there rather than keep a copy.
 */
export function productionNodeFlags(root: string): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const line = dockerfile.split('\n').find((l) => /^ENTRYPOINT\s+\[/.test(l));
  if (!line) throw new Error('Dockerfile has no exec-form ENTRYPOINT ["node", ..., "dist/main.js"]');
  const args = JSON.parse(line.replace(/^ENTRYPOINT\s+/, '')) as unknown;
  const entry = Array.isArray(args) ? args.indexOf('dist/main.js') : -1;
  if (!Array.isArray(args) || entry < 1 || !args.every((a) => typeof a === 'string')) {
    throw new Error(`Dockerfile ENTRYPOINT is not ["node", ...flags, "dist/main.js", ...]: ${line}`);
  }
  return args.slice(1, entry) as string[];
}
