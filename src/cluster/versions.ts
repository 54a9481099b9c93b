import { minorOf } from '../engine/containers.js';
import type { ClusterVersions } from './view.js';

/** What is known of the cluster's versions at one moment; the live view keeps this up to date. */
export interface VersionFacts {
  /** kubeletVersion of every node, by node name; undefined until the Node cache has listed once. */
  kubelets: ReadonlyMap<string, string> | undefined;
  /** gitVersion from the API server's /version, once read. */
  apiServer: string | undefined;
  /** The configured kubernetesVersion, used when nothing better is known. */
  fallback: string;
}

const asMinor = (minor: number): string => `1.${minor}`;

/**
 * The lowest kubelet minor across nodes decides which features a fix may use. With no nodes (a control
 * plane without kubelets) the API server's version stands in; with neither known, the configured fallback,
 * lowered to the API server's version when that is older (no kubelet is newer than its API server).
 */
export function computeVersions(facts: VersionFacts): ClusterVersions {
  const api = facts.apiServer === undefined ? Number.NaN : minorOf(facts.apiServer);
  const apiKnown = !Number.isNaN(api);
  const fallback = minorOf(facts.fallback);
  const fallbackText = Number.isNaN(fallback) ? facts.fallback : asMinor(fallback);

  if (facts.kubelets !== undefined) {
    let lowest = Number.NaN;
    let lowestNode = '';
    let readable = 0;
    for (const [node, version] of facts.kubelets) {
      const minor = minorOf(version);
      if (Number.isNaN(minor)) continue;
      readable += 1;
      if (Number.isNaN(lowest) || minor < lowest || (minor === lowest && node < lowestNode)) {
        lowest = minor;
        lowestNode = node;
      }
    }
    if (readable > 0) {
      const unreadable = facts.kubelets.size - readable;
      const of = `${readable} node${readable === 1 ? '' : 's'}`;
      const skipped = unreadable > 0 ? `; ${unreadable} without a readable kubeletVersion` : '';
      return { minKubelet: asMinor(lowest), source: `nodes: lowest kubelet of ${of} (${lowestNode})${skipped}` };
    }
    const why = facts.kubelets.size === 0 ? 'no nodes' : `no node reports a readable kubeletVersion`;
    if (apiKnown) {
      return { minKubelet: asMinor(api), source: `API server /version (${why}: a control plane without kubelets)` };
    }
    return { minKubelet: fallbackText, source: `config kubernetesVersion (${why} and API server version unknown)` };
  }

  if (apiKnown && (Number.isNaN(fallback) || api < fallback)) {
    return { minKubelet: asMinor(api), source: 'API server /version (node kubelet versions not known yet)' };
  }
  return { minKubelet: fallbackText, source: 'config kubernetesVersion (node kubelet versions not known yet)' };
}
