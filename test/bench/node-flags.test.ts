/**
 * The webhook's node flags live in the Dockerfile's ENTRYPOINT; npm start and the bench must run the same ones,
 * and this node must accept them (a V8 flag it does not know would stop the container at start).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from '../../bench/cli.js';
import { productionNodeFlags } from '../cluster/node-flags.js';

const root = repoRoot();
const flags = productionNodeFlags(root);

t.test('the image runs node with heap-sizing flags', async (t) => {
  t.ok(flags.length > 0, flags.join(' '));
  for (const flag of flags) t.match(flag, /^--[a-z-]+=\d+$/, `${flag} is a --name=number flag`);
});

t.test('npm start runs the same flags as the image', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.equal(pkg.scripts.start, ['node', ...flags, 'dist/main.js'].join(' '));
});

// Keeps up to 200,000 small objects alive while allocating 3 million: the young generation grows to its limit.
const GROW_YOUNG_GENERATION = `let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 2e5) keep = []; }
console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;

t.test('this node accepts the flags and applies them', async (t) => {
  const semi = flags.find((f) => f.startsWith('--max-semi-space-size='));
  t.ok(semi, 'the young generation is sized');
  const youngMb = (args: string[]) => {
    const run = spawnSync(process.execPath, [...args, '-e', GROW_YOUNG_GENERATION], { encoding: 'utf8' });
    t.equal(run.status, 0, run.stderr);
    t.equal(run.stderr, '', 'no warning about an unknown flag');
    return Number(run.stdout) / 1024 / 1024;
  };
  // The young generation is two semi-spaces; without the flag V8 lets each grow to 16 MB on 64-bit.
  t.equal(youngMb(flags), 2 * Number(semi!.split('=')[1]));
  t.ok(youngMb([]) > 2 * Number(semi!.split('=')[1]), 'smaller than without the flags');
});

t.test('a Dockerfile without a usable ENTRYPOINT is a clear error', async (t) => {
  for (const [text, reason] of [
    ['FROM scratch\nCMD ["node", "dist/main.js"]\n', /no exec-form ENTRYPOINT/],
    ['FROM scratch\nENTRYPOINT ["node", "server.js"]\n', /ENTRYPOINT is not/],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-flags-'));
    writeFileSync(join(dir, 'Dockerfile'), text);
    t.throws(() => productionNodeFlags(dir), reason);
  }
});
