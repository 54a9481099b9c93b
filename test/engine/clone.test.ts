import fc from 'fast-check';
import t from 'tap';
import { cloneJson } from '../../src/engine/clone.js';

t.test('a copy of any JSON value equals it and shares no object or array with it', async (t) => {
  const shared = (a: unknown, b: unknown): boolean =>
    typeof a === 'object' && a !== null && (a === b || Object.keys(a).some((k) => shared((a as any)[k], (b as any)[k])));
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const copy = cloneJson(value);
      t.same(copy, value);
      return !shared(value, copy);
    }),
  );
});

t.test('an own __proto__ key from JSON.parse stays an own key and does not become the prototype', async (t) => {
  const parsed = JSON.parse('{"a":{"__proto__":{"polluted":true}}}') as { a: Record<string, unknown> };
  const copy = cloneJson(parsed);
  t.equal(Object.getPrototypeOf(copy.a), Object.prototype);
  t.ok(Object.hasOwn(copy.a, '__proto__'));
  t.same(Object.getOwnPropertyDescriptor(copy.a, '__proto__')?.value, { polluted: true });
  t.equal((copy.a as { polluted?: boolean }).polluted, undefined);
});

t.test('values that are not plain JSON are copied by structuredClone', async (t) => {
  const when = new Date(0);
  const copy = cloneJson({ when, list: [new Map([[1, 2]])] });
  t.not(copy.when, when);
  t.equal(copy.when.getTime(), 0);
  t.same([...copy.list[0]!], [[1, 2]]);
});
