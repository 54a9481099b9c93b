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
