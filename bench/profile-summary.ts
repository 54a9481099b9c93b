/**
 * Where a V8 CPU profile (node --cpu-prof, e.g. from `npm run bench -- --profile`) spends its time: self time
 * by function and by source (package or src/ file).
 * Usage: node bench/out/bench/profile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `fastify`, `@kubernetes/client-node`, `src/engine/evaluate.js`, `node:internal/...` or `(program)`. */
function source(url: string, functionName: string): string {
  if (!url) return `(${functionName || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(dist|src)\/(.+)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  for (const [id, us] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const src = source(url, functionName);
    const fn = `${functionName || '(anonymous)'} ${src}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    bySource.set(src, (bySource.get(src) ?? 0) + us);
  }
  const table = (title: string, m: Map<string, number>) => [
    title,
    ...[...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`),
  ];
  return [`total ${(total / 1e6).toFixed(1)} s sampled`, '', ...table('self time by source', bySource), '', ...table('self time by function', byFunction)].join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.js') || process.argv[1]?.endsWith('profile-summary.ts')) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top) || 25)}\n`);
}
