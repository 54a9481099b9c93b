import { delimiter } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ErrorCode, GracekeeperError } from '../errors.js';

/**
 * Loads the webhook's kubeconfig (clusterView.kubeconfig) into `kubeConfig`, or the in-cluster service account when
 * none is given. KUBECONFIG may list several files (kubectl merges them); the first one names the cluster here.
 * The caller passes a new KubeConfig so that client-node is loaded only by those who need it.
 */
export function loadWebhookKubeConfig(kubeConfig: KubeConfig, setting: string): KubeConfig {
  const file = setting.split(delimiter).find(Boolean);
  try {
    if (file) kubeConfig.loadFromFile(file);
    else kubeConfig.loadFromCluster();
  } catch (e) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, `cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`, 'clusterView.kubeconfig');
  }
  return kubeConfig;
}
