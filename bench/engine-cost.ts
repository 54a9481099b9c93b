/**
 * Engine CPU per review of one build, in a process of its own (two builds in one process share fast-json-patch,
 * TypeBox and V8's inline caches, which blurred the before/after figures):
 *   node bench/out/bench/engine-cost.js <build/dist>
 * Prints one JSON object: per payload of the main corpus, `JSON.parse` alone and `JSON.parse` + handleReview on
 * /mutate and /validate (enforce, the build's default config, no cluster view), each the best of 7 rounds, in µs.
 * A new body is parsed for every review, as the server does; the engine's own part is the difference.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mainCorpus } from './corpus.js';

export interface EngineCost {
  payload: string;
  parse: number;
  mutate: number;
  validate: number;
}

type Review = (endpoint: string, body: unknown) => unknown;

async function reviewer(dist: string): Promise<Review> {
  const load = (path: string) => import(pathToFileURL(join(dist, path)).href);
  const [{ handleReview }, { buildServerConfig }, { RULES, RULE_IDS }, { OfflineClusterView }] = await Promise.all([
    load('admission/handle.js'),
    load('config/server.js'),
    load('rules/index.js'),
    load('cluster/offline.js'),
  ]);
  const config = buildServerConfig({}, [], RULE_IDS);
  const settings = {
    modes: { defaultMode: 'enforce', exemptNamespaces: [], ownNamespace: undefined },
    engine: { rules: RULES, context: { config: config.policy, cluster: new OfflineClusterView([], config.policy.kubernetesVersion) } },
  };
  return (endpoint, body) => handleReview(endpoint, 'enforce', body, settings);
}

function bestCpuPerCall(f: () => unknown, n: number, rounds = 7): number {
  for (let i = 0; i < n; i++) f(); // warm-up
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) f();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / n);
  }
  return best;
}

export async function engineCost(dist: string): Promise<EngineCost[]> {
  const review = await reviewer(resolve(dist));
  return mainCorpus().map((p) => {
    const text = p.body.toString('utf8');
    const n = Math.max(100, Math.round(3e6 / p.body.length));
    return {
      payload: p.id,
      parse: bestCpuPerCall(() => JSON.parse(text), n),
      mutate: bestCpuPerCall(() => review('mutate', JSON.parse(text)), n),
      validate: bestCpuPerCall(() => review('validate', JSON.parse(text)), n),
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = process.argv[2];
  if (!dist) {
    process.stderr.write('usage: engine-cost <build/dist>\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await engineCost(dist))}\n`);
}
