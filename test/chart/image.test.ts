/**
 * No container engine runs here, so the Dockerfile is checked as text against what the chart and
 * the server rely on: a numeric non-root user equal to the chart's runAsUser, node itself as the
 * exec-form entrypoint (so SIGTERM reaches the server), production dependencies only in the final
 * stage, and a build context that still holds every file the Dockerfile copies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(read('Dockerfile'));
const stages: Instruction[][] = [];
for (const i of dockerfile) {
  if (i.op === 'FROM') stages.push([]);
  stages.at(-1)?.push(i);
}
const finalStage = stages.at(-1)!;
const values = parse(read('charts/gracekeeper/values.yaml')) as { podSecurityContext: { runAsUser: number; runAsGroup: number } };

t.test('multi-stage, final stage on a distroless or slim Node 20+ image', async (t) => {
  t.ok(stages.length >= 2, 'more than one stage');
  const nodeMajor = Number(dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_MAJOR='))?.args.split('=')[1]);
  t.ok(nodeMajor >= 20, `Node ${nodeMajor}`);
  const base = finalStage[0]!.args.replace('${NODE_MAJOR}', String(nodeMajor));
  t.match(base, /^(gcr\.io\/distroless\/nodejs\d+-debian\d+(:nonroot)?|node:\d+-\w+-slim)$/);
});

t.test('numeric non-root user, the one the chart runs as', async (t) => {
  const user = finalStage.filter((i) => i.op === 'USER').at(-1)?.args;
  t.match(user, /^\d+:\d+$/, 'numeric, so runAsNonRoot can be verified by the kubelet');
  const [uid, gid] = user!.split(':').map(Number);
  t.not(uid, 0);
  t.same([uid, gid], [values.podSecurityContext.runAsUser, values.podSecurityContext.runAsGroup]);
});

t.test('node is the exec-form entrypoint running dist/main.js (after node flags), arguments left to the Pod spec', async (t) => {
  const entrypoints = finalStage.filter((i) => i.op === 'ENTRYPOINT');
  t.equal(entrypoints.length, 1);
  const argv = JSON.parse(entrypoints[0]!.args) as string[];
  t.match(argv[0], /(^|\/)node$/, 'no shell wrapper between the kubelet and node');
  t.equal(argv.at(-1), 'dist/main.js', 'dist/main.js last: the arguments come from the Pod spec');
  for (const flag of argv.slice(1, -1)) t.match(flag, /^--[a-z-]+(=\S+)?$/, `${flag}: only node flags before the entry file`);
  t.notOk(finalStage.some((i) => i.op === 'CMD'), 'no CMD: the chart passes --config/--tls-* as args');
});

t.test('the final stage takes node_modules from a production-only install and dist from the build', async (t) => {
  const stageName = (i: Instruction) => /\bAS\s+(\S+)$/i.exec(i.args)?.[1];
  const byName = new Map(stages.map((s) => [stageName(s[0]!), s]));
  const copyFrom = (dest: string) =>
    finalStage.find((i) => i.op === 'COPY' && i.args.startsWith('--from=') && i.args.endsWith(` ${dest}`))?.args.match(/^--from=(\S+)/)?.[1];
  const deps = byName.get(copyFrom('./node_modules'));
  t.ok(deps?.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)), 'node_modules from npm ci --omit=dev');
  const build = byName.get(copyFrom('./dist'));
  t.ok(build?.some((i) => i.op === 'RUN' && /npm run build/.test(i.args)), 'dist from npm run build');
});

t.test('.dockerignore keeps every file the Dockerfile copies from the context, and drops keys', async (t) => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const sources = dockerfile
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  t.ok(sources.includes('src') || sources.includes('./src') || sources.some((s) => s.startsWith('src')), 'src is copied');
  for (const source of sources) {
    const top = source.replace(/^\.\//, '').split('/')[0]!;
    t.notOk(ignored.includes(top), `${source} is in the build context`);
  }
  for (const secret of ['**/*.key', 'certs', 'node_modules', '.git']) t.ok(ignored.includes(secret), `${secret} is ignored`);
});
