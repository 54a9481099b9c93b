import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

/*
 * The real binary, as `npm install` lays it out: package.json (its `bin` entry and "type": "module"), the
 * JavaScript tsc emits, node_modules beside them. It is compiled here into a fresh temporary package from the
 * project's own tsconfig.build.json, because a dist/ left by an earlier `npm run build` may be stale or missing,
 * and running the .ts sources through tap's loader would not test what users run. Only the CLI's import graph is
 * emitted, with type checking off (`npm run typecheck` does that), which keeps the build to a few seconds of CPU.
 */
const repo = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; bin: { gracekeeper: string } };

t.setTimeout(180_000); // a cold tsc on a busy two-core machine

const root = mkdtempSync(join(tmpdir(), 'gracekeeper-bin-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
copyFileSync(join(repo, 'package.json'), join(root, 'package.json'));
symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
writeFileSync(
  join(root, 'tsconfig.json'),
  JSON.stringify({
    extends: join(repo, 'tsconfig.build.json'),
    include: [],
    files: [join(repo, 'src/cli/main.ts')],
    compilerOptions: { rootDir: join(repo, 'src'), outDir: join(root, 'dist'), noCheck: true, sourceMap: false },
  }),
);
const build = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  encoding: 'utf8',
});
const bin = join(root, pkg.bin.gracekeeper);

function gracekeeper(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Without tap's NODE_OPTIONS (its loaders), as a user's shell would run it.
    const env = { ...process.env, NODE_OPTIONS: '' };
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080}]
`;

t.test('the package builds and its bin entry is an executable node script', async (t) => {
  t.equal(build.status, 0, build.stdout + build.stderr);
  t.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

t.test('--version and the exit codes, over real pipes', async (t) => {
  const version = await gracekeeper(['--version']);
  t.same(version, { code: 0, stdout: `${pkg.version}\n`, stderr: '' });

  const audit = await gracekeeper(['audit', '-'], WEB);
  t.equal(audit.code, 0, audit.stderr);
  t.match(audit.stdout, /Deployment shop\/web {2}<stdin>:1/);
  t.notMatch(audit.stdout, /\u001b\[/, 'no colour when stdout is a pipe');

  const dir = t.testdir({ 'config.yaml': 'policy:\n  rules:\n    readiness-probe-missing: deny\n', 'broken.yaml': 'kind: [\n' });
  const denied = await gracekeeper(['audit', '--config', join(dir, 'config.yaml'), '-'], WEB);
  t.equal(denied.code, 1);

  const broken = await gracekeeper(['audit', join(dir, 'broken.yaml')]);
  t.equal(broken.code, 2);
  t.match(broken.stderr, `error: ${join(dir, 'broken.yaml')}:2: `);

  const usage = await gracekeeper(['audit', '--nope']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /Usage: gracekeeper audit/);
});

t.test('mutate through the binary', async (t) => {
  const r = await gracekeeper(['mutate', '-'], `# keep me\n${WEB}`);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^# keep me\n/);
  // No Service given: port 8080 is assumed to receive traffic, so the app gets its drain delay (and no probe).
  t.match(r.stdout, /preStop:\n\s+sleep:\n\s+seconds: 5/);
});
