import { ApiException, CustomObjectsApi, Observable, type ConfigurationOptions, type KubeConfig } from '@kubernetes/client-node';
import { describeApiError } from '../cluster/api-errors.js';
import type { ReportObject } from './builder.js';
import type { StoredReport } from './content.js';
import { REPORT_SELECTOR, resourceOfFormat, type ReportFormat } from './format.js';
import { ReportApiError, type ReportApi } from './writer.js';

const PAGE_SIZE = 500;
/** Who the API server records as the writer (managedFields). */
const FIELD_MANAGER = 'gracekeeper';

/** Options that abort a generated-client call after `ms` or when `stopping` fires. */
function bounded(ms: number, stopping: AbortSignal): ConfigurationOptions {
  const signal = AbortSignal.any([AbortSignal.timeout(ms), stopping]);
  return {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * The reports of `format` through the API server: list (label selector, in pages), create, conditional
 * replace, delete. Failures become ReportApiError with the HTTP status and one line naming the verb and the
 * resource (a 404 on create usually means the CRD is not installed).
 */
export function kubernetesReportApi(kubeConfig: KubeConfig, format: ReportFormat, requestTimeoutMs: number, stopping: AbortSignal): ReportApi {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = format;
  const resource = resourceOfFormat(format);
  const call = async <T>(verb: string, where: string, run: (o: ConfigurationOptions) => Promise<T>): Promise<T> => {
    try {
      return await run(bounded(requestTimeoutMs, stopping));
    } catch (err) {
      const status = err instanceof ApiException ? err.code : 0;
      let hint = '';
      if (status === 403) hint = ` (RBAC: needs ${verb} on ${resource}; the chart grants it with reports.enabled)`;
      if (status === 404 && verb !== 'delete') hint = ` (is the ${resource} CRD installed? the chart installs it with reports.installCRD)`;
      throw new ReportApiError(status, `cannot ${verb} ${resource} ${where}: ${describeApiError(err).replace(/ \(RBAC: needs [^)]*\)$/, '')}${hint}`);
    }
  };
  return {
    async list() {
      const items: StoredReport[] = [];
      let token: string | undefined;
      do {
        const page = (await call('list', 'in all namespaces', (o) =>
          api.listCustomObjectForAllNamespaces({ group, version, plural, labelSelector: REPORT_SELECTOR, limit: PAGE_SIZE, _continue: token }, o),
        )) as { items?: StoredReport[]; metadata?: { continue?: string } };
        items.push(...(page.items ?? []));
        token = page.metadata?.continue || undefined;
      } while (token);
      return items;
    },
    async create(report: ReportObject) {
      const namespace = report.metadata.namespace;
      return (await call('create', `in namespace '${namespace}'`, (o) =>
        api.createNamespacedCustomObject({ group, version, namespace, plural, body: report, fieldManager: FIELD_MANAGER }, o),
      )) as StoredReport;
    },
    async replace(report: ReportObject) {
      const { namespace, name } = report.metadata;
      return (await call('update', `'${namespace}/${name}'`, (o) =>
        api.replaceNamespacedCustomObject({ group, version, namespace, plural, name, body: report, fieldManager: FIELD_MANAGER }, o),
      )) as StoredReport;
    },
    async delete(namespace: string, name: string) {
      await call('delete', `'${namespace}/${name}'`, (o) => api.deleteNamespacedCustomObject({ group, version, namespace, plural, name }, o));
    },
  };
}
