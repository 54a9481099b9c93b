import { join } from 'node:path';
import t from 'tap';
import { RULES } from '../../src/rules/index.js';
import { cli } from '../helpers/cli.js';

t.test('rules lists every rule, in catalogue order, with its default action, fix and summary', async (t) => {
  const r = await cli(['rules']);
  t.equal(r.code, 0);
  const [header, ...lines] = r.stdout.trimEnd().split('\n');
  t.match(header, /^RULE +ACTION +FIX +SUMMARY$/);
  t.equal(lines.length, RULES.length);
  RULES.forEach((rule, i) => {
    const fix = rule.fix ? 'yes' : 'no';
    t.match(lines[i], new RegExp(`^${rule.id} +${rule.defaultAction} +${fix} +`), rule.id);
    t.ok(lines[i]!.endsWith(rule.summary), `${rule.id}: summary`);
  });
});

t.test('rules --output json', async (t) => {
  const r = await cli(['rules', '-o', 'json']);
  t.equal(r.code, 0);
  t.same(
    JSON.parse(r.stdout).rules,
    RULES.map((rule) => ({
      id: rule.id,
      defaultAction: rule.defaultAction,
      action: rule.defaultAction,
      fixable: typeof rule.fix === 'function',
      summary: rule.summary,
    })),
  );
});

t.test('rules --config shows the action in force beside the default', async (t) => {
  const [first] = RULES;
  const other = first!.defaultAction === 'deny' ? 'warn' : 'deny';
  const dir = t.testdir({ 'config.yaml': `policy:\n  rules:\n    ${first!.id}: ${other}\n` });
  const text = await cli(['rules', '--config', join(dir, 'config.yaml')]);
  t.match(text.stdout, new RegExp(`\\n${first!.id} +${other} \\(default ${first!.defaultAction}\\) `));
  const json = JSON.parse((await cli(['rules', '-o', 'json', '-c', join(dir, 'config.yaml')])).stdout);
  t.match(json.rules[0], { id: first!.id, defaultAction: first!.defaultAction, action: other });
});
