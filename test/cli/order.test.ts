import fc from 'fast-check';
import t from 'tap';
import { audit } from '../../src/cli/audit.js';
import type { InputText } from '../../src/cli/inputs.js';
import { defaultPolicyConfig } from '../../src/config/policy.js';

// Two environments' folders in one repo define the same PVC, Service and Deployment names with different specs:
// each workload must be judged with the objects of its own folder, whatever the argument order.
const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: example/web:1
          ports: [{containerPort: 8080}]
          volumeMounts: [{name: data, mountPath: /data}]
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: data}
`;
const pvc = (mode: string) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [${mode}]
  resources: {requests: {storage: 1Gi}}
`;
const service = (target: number) => `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: ${target}}]
`;

const ENVS: InputText[] = [
  { name: 'envs/dev/deployment.yaml', text: deployment(3) },
  { name: 'envs/dev/pvc.yaml', text: pvc('ReadWriteMany') },
  { name: 'envs/dev/service.yaml', text: service(8080) },
  { name: 'envs/prod/deployment.yaml', text: deployment(3) },
  { name: 'envs/prod/pvc.yaml', text: pvc('ReadWriteOnce') },
  // prod's Service targets a port the app does not declare: still traffic (containerPort is informational).
  { name: 'envs/prod/service.yaml', text: service(9090) },
];

/** Findings as a sorted list of comparable lines, so two runs compare as sets. */
function findings(inputs: readonly InputText[]): string[] {
  const report = audit(inputs, defaultPolicyConfig());
  t.same(report.errors, [], 'no errors');
  return report.workloads
    .flatMap((w) => w.findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.action} ${f.message}`))
    .sort();
}

t.test('each environment is judged with its own folder, in any order', async (t) => {
  const forward = findings(ENVS);
  const rwo = forward.filter((f) => f.includes('rwo-volume-shared-by-replicas'));
  t.equal(rwo.length, 1, 'one RWO finding');
  t.match(rwo[0], /^envs\/prod\/deployment\.yaml:\d+ rwo-volume-shared-by-replicas deny PVC 'data' is ReadWriteOnce/);
  t.ok(forward.some((f) => f.startsWith('envs/prod/') && f.includes("from Service 'web' on port 9090")), "prod's own Service");
  t.ok(forward.some((f) => f.startsWith('envs/dev/') && f.includes("from Service 'web' on port 8080")), "dev's own Service");
  t.same(findings([...ENVS].reverse()), forward, 'reversed arguments: same findings');
  fc.assert(
    fc.property(fc.shuffledSubarray(ENVS, { minLength: ENVS.length, maxLength: ENVS.length }), (order) => {
      t.same(findings(order), forward);
    }),
    { numRuns: 25, seed: 42 },
  );
});

t.test('equally near definitions that differ are ambiguous: reported, never guessed', async (t) => {
  const inputs: InputText[] = [
    { name: 'apps/web.yaml', text: deployment(3) },
    { name: 'claims/a.yaml', text: pvc('ReadWriteMany') },
    { name: 'claims/b.yaml', text: pvc('ReadWriteOnce') },
  ];
  const forward = findings(inputs);
  const rwo = forward.filter((f) => f.includes('rwo-volume-shared-by-replicas'));
  t.equal(rwo.length, 1);
  t.match(rwo[0], /warn PVC 'data' could not be checked: PersistentVolumeClaim 'data' is defined differently in claims\/a\.yaml and claims\/b\.yaml/);
  t.same(findings([...inputs].reverse()), forward, 'reversed arguments: same findings');
});

t.test('identical definitions in two places are one object', async (t) => {
  const inputs: InputText[] = [
    { name: 'apps/web.yaml', text: deployment(3) },
    { name: 'claims/a.yaml', text: pvc('ReadWriteOnce') },
    { name: 'claims/b.yaml', text: pvc('ReadWriteOnce') },
  ];
  t.match(findings(inputs).filter((f) => f.includes('rwo-volume')), [/deny PVC 'data' is ReadWriteOnce but 3 replicas mount it/]);
});
