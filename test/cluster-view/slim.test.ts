import t from 'tap';
import type { V1Node, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import { slimNode, slimPersistentVolumeClaim, slimService } from '../../src/cluster/slim.js';

const heavyMeta = {
  name: 'db',
  namespace: 'shop',
  resourceVersion: '4711',
  uid: '0b6a4c4e-1',
  labels: { app: 'db' },
  annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}'.repeat(100) },
  managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
  creationTimestamp: new Date('2026-01-01T00:00:00Z'),
};

t.test('a Service keeps name, namespace, labels, clusterIP, selector and ports', async (t) => {
  const svc: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: heavyMeta,
    spec: {
      clusterIP: 'None',
      clusterIPs: ['None'],
      selector: { app: 'db' },
      ports: [{ name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP' }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  };
  t.same(slimService(svc), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'db', namespace: 'shop', resourceVersion: '4711', labels: { app: 'db' } },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP' }] },
  });
});

t.test('a PVC keeps name, namespace and both access mode lists', async (t) => {
  const pvc: V1PersistentVolumeClaim = {
    metadata: heavyMeta,
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' },
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
  };
  t.same(slimPersistentVolumeClaim(pvc), {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'db', namespace: 'shop', resourceVersion: '4711' },
    spec: { accessModes: ['ReadWriteOnce'] },
    status: { accessModes: ['ReadWriteOnce'] },
  });
});

t.test('a Node keeps only its name and kubelet version', async (t) => {
  const node: V1Node = {
    metadata: { ...heavyMeta, namespace: undefined, name: 'node-a' },
    spec: { podCIDR: '10.244.0.0/24' },
    status: {
      nodeInfo: {
        kubeletVersion: 'v1.33.2',
        kubeProxyVersion: 'v1.33.2',
        architecture: 'amd64',
        bootID: 'x',
        containerRuntimeVersion: 'containerd://2.0.0',
        kernelVersion: '6.1',
        machineID: 'm',
        operatingSystem: 'linux',
        osImage: 'Debian',
        systemUUID: 'u',
      },
      images: [{ names: ['registry.example/big:1'], sizeBytes: 1e9 }],
    },
  };
  t.same(slimNode(node), {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a', resourceVersion: '4711' },
    status: { nodeInfo: { kubeletVersion: 'v1.33.2' } },
  });
});

t.test('objects with little in them stay little (no invented fields)', async (t) => {
  t.same(slimService({ metadata: { name: 'bare' } }), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bare' } });
  t.same(slimPersistentVolumeClaim({ metadata: { name: 'p', namespace: 'n' } }), {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'p', namespace: 'n' },
  });
  t.same(slimNode({ metadata: { name: 'n' }, status: {} }), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } });
});
