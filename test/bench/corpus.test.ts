/** The bench corpus is what its labels say, and the server would accept it and the shipped config. */
import { join } from 'node:path';
import t from 'tap';
import { decodeReview } from '../../src/admission/decode.js';
import { buildServerConfig } from '../../src/config/server.js';
import { RULE_IDS } from '../../src/rules/index.js';
import { repoRoot } from '../../bench/cli.js';
import { SCALING_CONTAINERS, mainCorpus, podWithContainers } from '../../bench/corpus.js';
import { shippedConfig } from '../../bench/shipped-config.js';

type Json = Record<string, any>;
const corpus = Object.fromEntries(mainCorpus().map((p) => [p.id, p]));

t.test('every payload is an AdmissionReview the server decodes, with the uid the drivers look for', async (t) => {
  for (const p of [...Object.values(corpus), ...SCALING_CONTAINERS.map(podWithContainers)]) {
    const review = decodeReview(JSON.parse(p.body.toString('utf8')));
    t.equal(review.request.uid, p.uid, p.id);
  }
});

t.test('sizes and shapes match the issue: ~2 KB, ~5 KB with a proxy, 40+ containers at ~150 KB, an UPDATE with both objects', async (t) => {
  const kb = (id: string) => corpus[id]!.body.length / 1024;
  t.ok(kb('small-pod') >= 1.5 && kb('small-pod') <= 3, `small ${kb('small-pod')}`);
  t.ok(kb('typical-pod') >= 4 && kb('typical-pod') <= 6, `typical ${kb('typical-pod')}`);
  t.ok(kb('large-pod') >= 130 && kb('large-pod') <= 170, `large ${kb('large-pod')}`);
  const large = corpus['large-pod']!.review as Json;
  t.ok(large.request.object.spec.containers.length >= 40);
  const typical = (corpus['typical-pod']!.review as Json).request.object;
  t.same(typical.spec.containers.map((c: Json) => c.name), ['web', 'cloud-sql-proxy']);
  t.equal(typical.metadata.ownerReferences[0].kind, 'ReplicaSet');
  const update = (corpus['deployment-update']!.review as Json).request;
  t.equal(update.operation, 'UPDATE');
  t.not(update.object.spec.template.spec.containers[0].image, update.oldObject.spec.template.spec.containers[0].image);
});

t.test('Pods arrive defaulted, as after the API server', async (t) => {
  const spec = (corpus['small-pod']!.review as Json).request.object.spec;
  t.equal(spec.terminationGracePeriodSeconds, 30);
  t.equal(spec.containers[0].imagePullPolicy, 'IfNotPresent');
  t.equal(spec.containers[0].terminationMessagePath, '/dev/termination-log');
  t.match(spec.volumes[0].name, /^kube-api-access-/);
});

t.test('the scaling pods have exactly the container counts of the line', async (t) => {
  for (const n of SCALING_CONTAINERS) t.equal((podWithContainers(n).review as Json).request.object.spec.containers.length, n);
});

t.test('the config assembled from the chart values is one the server accepts', async (t) => {
  const file = shippedConfig(join(repoRoot(), 'charts', 'gracekeeper', 'values.yaml'));
  const config = buildServerConfig(file, [], RULE_IDS);
  t.equal(config.logLevel, 'info');
  t.equal(config.server.shutdownDelaySeconds, 0);
});
