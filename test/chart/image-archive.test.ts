/**
 * The image scripts/image-build.sh assembles (no container engine here: Node from npm, Debian's runtime
 * libraries, the production node_modules and dist/, packed as a docker-archive) matches the Dockerfile, which
 * stays the one description of the image. This file parses the Dockerfile on its own and compares the archive's
 * config and files with it: entrypoint and node flags, CMD, user, workdir, env, exposed ports, the final stage's
 * copies, the Node major, the libraries the node binary loads, the CA bundle and the nonroot user.
 * The build is cached outside the repo (keyed by its inputs); the first one takes a minute or two.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';

t.setTimeout(20 * 60_000);

const ROOT = join(import.meta.dirname, '..', '..');
const read = (name: string): string => readFileSync(join(ROOT, name), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

const instructions: Instruction[] = read('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
const finalStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf('FROM') + 1);
const last = (op: string): string | undefined => finalStage.filter((i) => i.op === op).at(-1)?.args;
const nodeMajor = instructions.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_MAJOR='))!.args.split('=')[1];
const workdir = last('WORKDIR')!;

const values = parse(read('charts/gracekeeper/values.yaml')) as { image: { repository: string; tag: string } };
const chart = parse(read('charts/gracekeeper/Chart.yaml')) as { appVersion: string };
const pkg = JSON.parse(read('package.json')) as { version: string; dependencies: Record<string, string> };
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }> };

const outDir = execFileSync('bash', [join(ROOT, 'scripts', 'image-build.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, GRACEKEEPER_IMAGE: '' },
  maxBuffer: 16 << 20,
})
  .trim()
  .split('\n')
  .at(-1)!;
const meta = JSON.parse(readFileSync(join(outDir, 'image.json'), 'utf8')) as { image: string; id: string; archive: string; node: string };
const archive = join(outDir, meta.archive);
const tarText = (args: string[]): string => execFileSync('tar', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
const manifest = JSON.parse(tarText(['-xOf', archive, 'manifest.json'])) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
const config = JSON.parse(tarText(['-xOf', archive, manifest[0]!.Config])) as {
  config: { Entrypoint: string[]; Cmd?: string[] | null; User?: string; WorkingDir: string; Env: string[]; ExposedPorts?: Record<string, object> };
};

/** The layer's entries: path (no leading slash) -> type (d, -, l) and mode. */
const work = mkdtempSync(join(tmpdir(), 'gracekeeper-image-test-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
execFileSync('tar', ['-xf', archive, '-C', work, manifest[0]!.Layers[0]!]);
const layer = join(work, manifest[0]!.Layers[0]!);
const entries = new Map<string, { type: string; mode: string }>();
for (const line of tarText(['-tvf', layer]).split('\n').filter(Boolean)) {
  const [perms = '', , , , , ...rest] = line.split(/\s+/);
  const name = rest.join(' ').replace(/ -> .*$/, '').replace(/\/$/, '');
  entries.set(name, { type: perms[0]!, mode: perms.slice(1) });
}
const has = (path: string): boolean => entries.has(path.replace(/^\//, ''));

t.test('tagged as the chart deploys it by default', async (t) => {
  const chartImage = `${values.image.repository}:${values.image.tag || chart.appVersion}`;
  t.same(manifest[0]!.RepoTags, [chartImage]);
  t.equal(meta.image, chartImage);
  t.equal(meta.id, `sha256:${manifest[0]!.Config.replace(/\.json$/, '')}`, 'image.json records the config digest (the image id)');
});

t.test('ENTRYPOINT, CMD, USER, WORKDIR as the Dockerfile says', async (t) => {
  t.same(config.config.Entrypoint, JSON.parse(last('ENTRYPOINT')!), 'the exec-form entrypoint with its node flags');
  t.same(config.config.Cmd ?? [], last('CMD') ? JSON.parse(last('CMD')!) : [], 'CMD');
  t.equal(config.config.User, last('USER'));
  t.equal(config.config.WorkingDir, workdir);
});

t.test('every ENV of the final stage and every EXPOSEd port', async (t) => {
  const env = finalStage.filter((i) => i.op === 'ENV').flatMap((i) => i.args.split(/\s+/));
  t.ok(env.length > 0, 'the Dockerfile sets env');
  for (const e of env) t.ok(config.config.Env.includes(e), `${e} is in the image's Env`);
  const exposed = finalStage.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => (p.includes('/') ? p : `${p}/tcp`));
  t.same(Object.keys(config.config.ExposedPorts ?? {}).sort(), exposed.sort());
});

t.test("the final stage's copies, the entry file and the node binary are in the layer", async (t) => {
  const copies = finalStage.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')));
  t.ok(copies.length >= 3);
  for (const words of copies) {
    const dest = words.at(-1)!;
    // COPY a b dir/ puts each source's base name into dir; COPY a name puts it at name (docker's rules).
    const targets = /\/$|^\.$/.test(dest) ? words.slice(0, -1).map((src) => join(workdir, dest, basename(src))) : [join(workdir, dest)];
    for (const target of targets) t.ok(has(target), `${target} (COPY ${words.join(' ')})`);
  }
  const [binary, ...argv] = config.config.Entrypoint;
  t.match(entries.get(binary!.replace(/^\//, '')), { type: '-', mode: /^..x/ }, `${binary} is an executable file`);
  const entryFile = argv.find((a) => !a.startsWith('-'))!;
  t.ok(has(join(workdir, entryFile)), `${join(workdir, entryFile)} (the entry file) exists`);
  const imagePkg = JSON.parse(execFileSync('tar', ['-xOf', layer, join(workdir, 'package.json').slice(1)], { encoding: 'utf8' })) as { version: string };
  t.equal(imagePkg.version, pkg.version, 'package.json (the CLI reads its version from it)');
});

t.test('node_modules holds the production dependencies and nothing the lockfile marks dev-only', async (t) => {
  for (const dep of Object.keys(pkg.dependencies)) t.ok(has(join(workdir, 'node_modules', dep, 'package.json')), `${dep}`);
  const entries = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
  const prod = entries.filter(([, e]) => !e.dev && !e.devOptional && !e.optional).map(([path]) => path);
  const devOnly = entries.filter(([, e]) => e.dev).map(([path]) => path);
  t.ok(prod.length > 20 && devOnly.length > 20, `the lockfile lists ${prod.length} production and ${devOnly.length} dev-only packages`);
  t.same(prod.filter((p) => !has(join(workdir, p))), [], 'every production package of the lockfile is in the image');
  t.same(devOnly.filter((p) => has(join(workdir, p))), [], 'no dev-only package is');
});

t.test(`Node ${nodeMajor}, with every library it loads, the CA bundle and the nonroot user`, async (t) => {
  const binary = config.config.Entrypoint[0]!.slice(1);
  execFileSync('tar', ['-xf', layer, '-C', work, binary]);
  const node = join(work, binary);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  t.match(version, new RegExp(`^v${nodeMajor}\\.`), `${version} (${meta.node})`);
  const libs = [...execFileSync('ldd', [node], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
  t.ok(libs.length >= 3, `ldd lists ${libs.length} libraries`);
  for (const lib of libs) t.match(entries.get(lib.slice(1)), { type: '-' }, `${lib} is a file in the image`);
  t.match(entries.get('etc/ssl/certs/ca-certificates.crt'), { type: '-' }, 'CA bundle');
  const passwd = execFileSync('tar', ['-xOf', layer, 'etc/passwd'], { encoding: 'utf8' });
  const uid = last('USER')!.split(':')[0];
  t.match(passwd, new RegExp(`^nonroot:x:${uid}:`, 'm'), `/etc/passwd names uid ${uid}`);
  t.match(entries.get('tmp'), { type: 'd', mode: /t$/ }, '/tmp exists, sticky');
});
