import t from 'tap';
import type { V1Service } from '@kubernetes/client-node';
import { found, notFound, type ClusterView } from '../../src/cluster/view.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { trafficOf } from '../../src/engine/traffic.js';
import type { KubeObject } from '../../src/engine/types.js';
import { toWorkload } from '../../src/engine/workload.js';
import { RULES } from '../../src/rules/index.js';
import { contextFor } from '../helpers/engine.js';

const pod = (containers: unknown[], labels: Record<string, string> = { app: 'web' }): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'shop', labels },
  spec: { containers },
});
const service = (name: string, targetPort: number | string, selector: Record<string, string> = { app: 'web' }): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { selector, ports: [{ port: 80, targetPort }] },
});
const routes = (obj: KubeObject, objects: KubeObject[]) => {
  const traffic = trafficOf(toWorkload(obj)!, contextFor(objects));
  return { basis: traffic.basis, routes: Object.fromEntries(traffic.routes) };
};

t.test('no Service of the namespace given: declared TCP ports without hostPort are assumed', async (t) => {
  const p = pod([
    { name: 'web', image: 'w', ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }] },
    { name: 'agent', image: 'a', ports: [{ containerPort: 9100, hostPort: 9100 }] },
  ]);
  t.same(routes(p, []), { basis: 'assumed', routes: { web: [{ containerPort: 8080, declared: true }] } });
});

t.test('known Services: only what they select and target', async (t) => {
  const p = pod([
    { name: 'web', image: 'w', ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9000 }] },
    { name: 'sidecar', image: 's', ports: [{ containerPort: 15090 }] },
  ]);
  t.same(routes(p, [service('web', 'http')]), {
    basis: 'services',
    routes: { web: [{ service: 'web', containerPort: 8080, portName: 'http', declared: true }] },
  });
  t.same(routes(p, [service('other', 8080, { app: 'other' })]), { basis: 'services', routes: {} }, 'a Service selecting others');
  t.same(routes(p, [service('web', 'missing')]), { basis: 'services', routes: {} }, 'a port name no container declares');
});

t.test('a numeric targetPort no container declares reaches the only app container', async (t) => {
  const p = pod([
    { name: 'app', image: 'example/app:1' },
    { name: 'cloud-sql-proxy', image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1' },
  ]);
  t.same(routes(p, [service('web', 3000)]).routes, { app: [{ service: 'web', containerPort: 3000, declared: false }] });
});

t.test('each evaluation reads the view afresh: a Service added between two calls counts', async (t) => {
  const services: V1Service[] = [];
  const view: ClusterView = {
    getPersistentVolumeClaim: () => notFound('none'),
    getService: () => notFound('none'),
    listServices: () => found(services),
    versions: () => ({ minKubelet: '1.37', source: 'test' }),
  };
  const ctx = { ...contextFor(), cluster: view };
  const obj = pod([{ name: 'web', image: 'w', ports: [{ containerPort: 8080 }] }]);
  const rulesOf = () => evaluate(obj, RULES, ctx)!.findings.map((f) => f.rule);
  t.notOk(rulesOf().includes('app-no-drain-delay'), 'no Service routes to it yet');
  services.push(service('web', 8080) as V1Service);
  t.ok(rulesOf().includes('app-no-drain-delay'), 'the same object, evaluated again, sees the new Service');
});
