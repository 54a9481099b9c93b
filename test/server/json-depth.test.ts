import fc from 'fast-check';
import t from 'tap';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonBody } from '../../src/server/json-body.js';

/** `levels` nested containers, alternating arrays and objects: [{"a":[{"a":...}]}]. */
const nested = (levels: number) => {
  let text = '1';
  for (let i = 0; i < levels; i++) text = i % 2 ? `{"a":${text}}` : `[${text}]`;
  return text;
};

/** Depth of a parsed value by plain recursion: the definition the fast check must agree with. */
const depth = (v: unknown): number =>
  typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;

t.test('bodies nesting exactly MAX_JSON_DEPTH levels parse; one more level is refused with a 400 reason', async (t) => {
  t.equal(depth(parseJsonBody(nested(MAX_JSON_DEPTH))), MAX_JSON_DEPTH);
  t.throws(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1)), { code: 'REVIEW_NOT_JSON', message: /deeper than 256 levels/ });
  t.throws(() => parseJsonBody(nested(100_000)), { message: /deeper than 256 levels/ });
});

t.test('nestsDeeperThan agrees with the depth of any JSON value', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue({ maxDepth: 6 })), fc.integer({ min: 1, max: 8 }), (value, levels) => {
      t.equal(nestsDeeperThan(value, levels), depth(value) > levels);
    }),
  );
});
