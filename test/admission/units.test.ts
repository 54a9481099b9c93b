import fc from 'fast-check';
import t from 'tap';
import { decodeReview } from '../../src/admission/decode.js';
import { resolveMode, type ModeSettings } from '../../src/admission/mode.js';
import { MAX_WARNINGS, WarningList, clip } from '../../src/admission/warnings.js';
import { loadReview } from '../helpers/server.js';

t.test('clip: one printable line under 120 characters, cut at a word', async (t) => {
  t.equal(clip('short'), 'short');
  t.equal(clip('  two\nlines\t here '), 'two lines here');
  t.equal(clip('caf\u00e9 \u2014 ok'), 'caf ok', 'non-ASCII dropped: warnings travel as HTTP headers');
  const long = `rule-x: ${'word '.repeat(40)}end`;
  const cut = clip(long);
  t.ok(cut.length <= 119, `${cut.length} characters`);
  t.match(cut, /^rule-x: word( word)*\.\.\.$/, 'ends on a whole word and says it was cut');
  const noSpaces = 'x'.repeat(300);
  t.equal(clip(noSpaces), `${'x'.repeat(116)}...`, 'a long word is cut hard');
  t.equal(clip('a'.repeat(119)), 'a'.repeat(119), '119 characters fit');
});

/** clip as first written: whole-string regular expressions. The scanning clip must give the same line for any text. */
function clipByRegex(text: string, max = 119): string {
  const line = text.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const room = max - 3;
  const cut = line.lastIndexOf(' ', room);
  return `${(cut > room * 0.6 ? line.slice(0, cut) : line.slice(0, room)).replace(/[\s,;:.]+$/, '')}...`;
}

t.test('clip: the same line as the whole-string regular expressions, for any text', async (t) => {
  const piece = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(' ', '  ', '\n', '\t', '\u00a0', '\u2014', 'caf\u00e9', '\u007f', '\u0000', ',', '.', ';', ':', ' . ', '...'),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.nat({ max: 400 }).map((n) => 'w'.repeat(n)),
    // Sentences like the rules' messages (printable words, single spaces), which clip reads without rebuilding.
    fc.array(fc.stringMatching(/^[a-z0-9,.:;'()]{1,14}$/), { maxLength: 40 }).map((words) => words.join(' ')),
  );
  const text = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));
  fc.assert(fc.property(text, fc.integer({ min: 4, max: 200 }), (s, max) => clip(s, max) === clipByRegex(s, max)), { numRuns: 5000 });
  t.equal(clip(`${'x'.repeat(1024 * 1024)} tail`), `${'x'.repeat(116)}...`, 'a 1 MiB word is cut hard');
  t.equal(clip(`${' \n'.repeat(100_000)}end`), 'end', 'a long run of whitespace before the text');
});

t.test('WarningList: deduplicated after clipping, capped with a count of the rest', async (t) => {
  const list = new WarningList();
  list.add('same thing');
  list.add('same  thing');
  list.add('');
  t.same(list.list(), ['same thing']);
  const many = new WarningList();
  for (let i = 0; i < MAX_WARNINGS + 5; i++) many.add(`warning ${i}`);
  const out = many.list();
  t.equal(out.length, MAX_WARNINGS);
  t.equal(out.at(-1), "gracekeeper: 6 more warnings not shown (see the webhook's logs)");
  t.equal(out[0], 'warning 0');
});

t.test('resolveMode: own namespace and exempt namespaces are off whatever the path says', async (t) => {
  const settings: ModeSettings = { defaultMode: 'audit', exemptNamespaces: ['kube-system'], ownNamespace: 'gracekeeper' };
  t.same(resolveMode(undefined, 'shop', settings), { mode: 'audit', reason: 'default' });
  t.same(resolveMode('enforce', 'shop', settings), { mode: 'enforce', reason: 'path' });
  t.same(resolveMode('enforce', 'kube-system', settings), { mode: 'off', reason: 'exempt' });
  t.same(resolveMode('audit', 'gracekeeper', settings), { mode: 'off', reason: 'own-namespace' });
  t.same(resolveMode('enforce', '', { ...settings, ownNamespace: undefined }), { mode: 'enforce', reason: 'path' }, 'no namespace: nothing to exempt');
});

t.test('decodeReview accepts what the API server sends, with optional fields absent or null', async (t) => {
  const review = loadReview('pod-create-proxy.json');
  t.equal(decodeReview(review).request.uid, review.request.uid);
  const minimal = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: review.request.object, oldObject: null, options: null },
  };
  t.equal(decodeReview(minimal).request.operation, 'CREATE');
  const del = { ...minimal, request: { ...minimal.request, operation: 'DELETE', object: null, oldObject: review.request.object } };
  t.equal(decodeReview(del).request.operation, 'DELETE', 'DELETE carries no object');
  t.throws(() => decodeReview({ ...minimal, request: { ...minimal.request, kind: undefined } }), { code: 'REVIEW_INVALID', message: /^request\.kind: / });
  t.throws(() => decodeReview({ ...minimal, request: { ...minimal.request, dryRun: 'yes' } }), { code: 'REVIEW_INVALID', message: /^request\.dryRun: / });
  t.throws(() => decodeReview({ ...minimal, apiVersion: 'x'.repeat(500) }), { message: /^apiVersion must be admission\.k8s\.io\/v1, got 'x{56}\.\.\.$/ }, 'echoes at most a little of a bad value');
});
