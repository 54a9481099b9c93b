import t from 'tap';
import { selects } from './lib/selector.js';

t.test('label selector semantics the API server applies to namespaceSelector', async (t) => {
  const labels = { 'gracekeeper.io/mode': 'audit', 'kubernetes.io/metadata.name': 'team-a' };
  t.ok(selects(undefined, labels), 'no selector selects all');
  t.ok(selects({}, labels), 'empty selector selects all');
  t.ok(selects({ matchLabels: { 'gracekeeper.io/mode': 'audit' } }, labels));
  t.notOk(selects({ matchLabels: { 'gracekeeper.io/mode': 'enforce' } }, labels));
  t.notOk(selects({ matchLabels: { team: 'a' } }, labels), 'matchLabels needs the key');

  const expr = (operator: string, values?: string[]) => ({ matchExpressions: [{ key: 'gracekeeper.io/mode', operator, values }] });
  t.ok(selects(expr('In', ['audit', 'enforce']), labels));
  t.notOk(selects(expr('In', ['enforce']), labels));
  t.notOk(selects(expr('In', ['enforce']), {}), 'In needs the key');
  t.notOk(selects(expr('NotIn', ['audit']), labels));
  t.ok(selects(expr('NotIn', ['enforce']), labels));
  t.ok(selects(expr('NotIn', ['audit']), {}), 'NotIn holds when the key is absent');
  t.ok(selects(expr('Exists'), labels));
  t.notOk(selects(expr('Exists'), {}));
  t.ok(selects(expr('DoesNotExist'), {}));
  t.notOk(selects(expr('DoesNotExist'), labels));

  const both = {
    matchLabels: { 'kubernetes.io/metadata.name': 'team-a' },
    matchExpressions: [{ key: 'gracekeeper.io/mode', operator: 'In', values: ['audit'] }],
  };
  t.ok(selects(both, labels), 'all terms hold');
  t.notOk(selects(both, { ...labels, 'gracekeeper.io/mode': 'off' }), 'one term fails');
});

t.test('selectors the API server would refuse are errors, not silent answers', async (t) => {
  const expr = (operator: string, values?: string[]) => ({ matchExpressions: [{ key: 'k', operator, values }] });
  t.throws(() => selects(expr('Equals', ['x']), {}), /unknown operator 'Equals'/);
  t.throws(() => selects(expr('In', []), {}), /In needs values/);
  t.throws(() => selects(expr('NotIn'), {}), /NotIn needs values/);
  t.throws(() => selects(expr('Exists', ['x']), {}), /Exists takes no values/);
});
