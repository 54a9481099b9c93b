/**
 * Kubeconfigs for the node's components: a client certificate from the control plane's CA, so the API
 * server authenticates them as the identities its Node authorizer and RBAC bootstrap roles expect
 * (system:node:<name> in system:nodes for the kubelet, system:kube-proxy for kube-proxy).
 */
import { writeFileSync } from 'node:fs';
import type { ControlPlane } from './controlPlane.js';

export function writeClientKubeconfig(
  cp: ControlPlane,
  path: string,
  identity: { commonName: string; organizations?: string[] },
): void {
  const cert = cp.ca.issue({ commonName: identity.commonName, organizations: identity.organizations ?? [], usage: 'client' });
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: cp.server, 'certificate-authority-data': b64(cp.ca.certPem) } }],
    users: [{ name: 'u', user: { 'client-certificate-data': b64(cert.certPem), 'client-key-data': b64(cert.keyPem) } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'c',
  };
  writeFileSync(path, JSON.stringify(doc, null, 2), { mode: 0o600 });
}
