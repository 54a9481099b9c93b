import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { parse } from 'yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import { toWorkload } from '../../src/engine/workload.js';
import { parseManifests } from '../../src/manifests/parse.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

/**
 * Each rule has test/fixtures/rules/<rule-id>/ holding pass-*.yaml and fail-*.yaml. The subject is the first
 * workload document of the file; the other documents (PVCs, Services) form the offline cluster view.
 * An optional <name>.expect.yaml gives `config` (policy overrides), `findings` (the exact list of this rule's
 * findings, each matched on the fields given; `message` matches as a substring) and, for fixes, `fixed`: the
 * subject after applying the produced patch with every other rule off, or `unfixed: true`: the rule reports but
 * must not change the object (its fix would be unsafe there).
 */
const root = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));

interface Expectation {
  config?: unknown;
  findings?: Array<Record<string, string>>;
  fixed?: unknown;
  unfixed?: boolean;
}

function load(dir: string, file: string) {
  const text = readFileSync(join(dir, file), 'utf8');
  const parsed = parseManifests(text, file);
  if (parsed.errors.length) throw parsed.errors[0];
  const objects = parsed.manifests.map((m) => m.object);
  const subject = objects.find((o) => toWorkload(o) !== null);
  if (!subject) throw new Error(`${file}: no workload document`);
  const expectFile = join(dir, file.replace(/\.yaml$/, '.expect.yaml'));
  const expectation: Expectation = existsSync(expectFile) ? (parse(readFileSync(expectFile, 'utf8')) ?? {}) : {};
  return { objects, subject, expectation };
}

for (const rule of RULES) {
  t.test(rule.id, async (t) => {
    const dir = join(root, rule.id);
    t.ok(existsSync(dir), `fixture folder test/fixtures/rules/${rule.id} exists`);
    if (!existsSync(dir)) return;
    const files = readdirSync(dir).filter((f) => /^(pass|fail)-.*\.yaml$/.test(f) && !f.endsWith('.expect.yaml'));
    t.ok(files.some((f) => f.startsWith('pass-')), 'has a passing fixture');
    t.ok(files.some((f) => f.startsWith('fail-')), 'has a failing fixture');
    let fixedChecked = 0;

    for (const file of files) {
      t.test(file, async (t) => {
        const { objects, subject, expectation } = load(dir, file);
        const ctx = contextFor(objects, expectation.config);
        const result = evaluate(subject, RULES, ctx, { fix: true, only: [rule.id] })!;
        const mine = result.findings.filter((f) => f.rule === rule.id);

        if (file.startsWith('pass-')) {
          t.same(mine, [], 'no findings');
          t.same(result.patch, [], 'no patch');
          return;
        }
        t.ok(mine.length > 0, 'reports a finding');
        for (const f of mine) {
          t.ok(f.message.length > 20, 'message says what to do');
          t.match(f.path, /^\//, 'path is a JSON pointer');
        }
        if (expectation.findings) {
          t.equal(mine.length, expectation.findings.length, 'finding count');
          expectation.findings.forEach((want, i) => {
            const got = mine[i] as unknown as Record<string, string>;
            for (const [k, v] of Object.entries(want)) {
              if (k === 'message') t.match(got?.[k], v, `finding ${i} message`);
              else t.equal(got?.[k], v, `finding ${i} ${k}`);
            }
          });
        }
        if (expectation.unfixed) t.same(result.patch, [], 'no fix is made');
        if (expectation.fixed !== undefined) {
          fixedChecked++;
          t.ok(rule.fix, 'rule has a fix');
          const applied = jsonpatch.applyPatch(structuredClone(subject), result.patch, true, false).newDocument;
          t.same(applied, expectation.fixed, 'patch applied to the subject gives the expected object');
          const again = evaluate(applied, RULES, contextFor(objects, expectation.config), { fix: true, only: [rule.id] })!;
          t.same(again.patch, [], 'fix is idempotent');
          t.same(again.findings.filter((f) => f.rule === rule.id), [], 'fixed object passes the rule');
        }
      });
    }
    if (rule.fix) {
      t.test('fix is covered', async (t) => {
        t.ok(fixedChecked > 0, 'a fail fixture has an expected fixed object');
      });
    }
  });
}

t.test('every fixture folder belongs to a registered rule', async (t) => {
  const ids = new Set(RULES.map((r) => r.id));
  for (const dir of readdirSync(root)) t.ok(ids.has(dir), `${dir} is a rule id`);
});
