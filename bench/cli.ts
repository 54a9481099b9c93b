/** `npm run bench [-- --smoke] [--payloads a,b] [--profile] [--out file] [--json file]` */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_PLAN, SMOKE_PLAN, runBench, type BenchReport } from './bench.js';
import { keptNotes, renderMarkdown } from './report.js';
import { productionNodeFlags } from '../test/cluster/node-flags.js';
import type { NodeEntry } from './servers.js';

const USAGE = `Usage: npm run bench [-- options]   (run npm run build first)
  --smoke             a few hundred requests: checks that everything runs, measures nothing
  --payloads <ids>    only these payloads (small-pod,typical-pod,large-pod,deployment-update,scaling)
  --profile           write the webhook's CPU profile (node --cpu-prof) to bench/out/profiles/
  --node-arg <flag>   run the webhook with this node flag too (repeatable), e.g. --node-arg=--max-semi-space-size=4
  --out <file>        Markdown report (default bench/RESULTS.md; with --smoke bench/out/RESULTS.smoke.md)
  --json <file>       the full report as JSON (default bench/out/results.json)
`;

/** The repository root: the nearest folder above this module with the gracekeeper package.json. */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'gracekeeper') return dir;
    if (dirname(dir) === dir) throw new Error(`no gracekeeper package.json above ${from}`);
  }
}

/** How to start each server; the defaults run the production build (with the image's node flags) and the compiled baseline next to this module. */
export interface Entries {
  webhook: NodeEntry;
  baseline: NodeEntry;
}

function defaultEntries(root: string): Entries {
  const here = fileURLToPath(import.meta.url);
  const baseline = join(dirname(here), `baseline-server${here.endsWith('.ts') ? '.ts' : '.js'}`);
  return { webhook: { nodeArgs: productionNodeFlags(root), entry: join(root, 'dist', 'main.js') }, baseline: { nodeArgs: [], entry: baseline } };
}

export interface CliOutput {
  report: BenchReport;
  markdown: string;
  markdownFile: string;
  jsonFile: string;
}

export async function benchCli(argv: string[], entries?: Partial<Entries>, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<CliOutput | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean' },
      payloads: { type: 'string' },
      profile: { type: 'boolean' },
      'node-arg': { type: 'string', multiple: true },
      out: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const root = repoRoot();
  const chosen = { ...defaultEntries(root), ...entries };
  const webhook = { ...chosen.webhook, nodeArgs: [...chosen.webhook.nodeArgs, ...(values['node-arg'] ?? [])] };
  const { baseline } = chosen;
  if (!existsSync(webhook.entry)) throw new Error(`${webhook.entry} does not exist: run \`npm run build\` first`);
  const outDir = join(root, 'bench', 'out');
  const markdownFile = resolve(values.out ?? (values.smoke ? join(outDir, 'RESULTS.smoke.md') : join(root, 'bench', 'RESULTS.md')));
  const jsonFile = resolve(values.json ?? join(outDir, 'results.json'));
  const profileDir = values.profile ? join(outDir, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const report = await runBench({
    plan: values.smoke ? SMOKE_PLAN : FULL_PLAN,
    webhook,
    baseline,
    valuesFile: join(root, 'charts', 'gracekeeper', 'values.yaml'),
    ...(values.payloads ? { payloads: values.payloads.split(',') } : {}),
    ...(profileDir ? { profileDir } : {}),
    progress: log,
  });
  const markdown = renderMarkdown(report, keptNotes(existsSync(markdownFile) ? readFileSync(markdownFile, 'utf8') : undefined));
  for (const [file, text] of [[markdownFile, markdown], [jsonFile, `${JSON.stringify(report, null, 2)}\n`]] as const) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  if (profileDir) log(`CPU profile of the webhook in ${profileDir} (open in Chrome DevTools > Performance)`);
  return { report, markdown, markdownFile, jsonFile };
}
