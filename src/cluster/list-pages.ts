import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../engine/types.js';
import { ErrorCode, GracekeeperError } from '../errors.js';

/** A resource the cluster audit lists: where it lives in the API and what its items are. */
export interface ListedResource {
  /** Plural resource name, as RBAC names it: `deployments`. */
  resource: string;
  /** API group, '' for the core group. */
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
}

export const apiVersionOf = (r: ListedResource): string => (r.group ? `${r.group}/${r.version}` : r.version);
/** `deployments.apps`, or `pods`: how kubectl and RBAC errors name a resource. */
export const qualifiedName = (r: ListedResource): string => (r.group ? `${r.resource}.${r.group}` : r.resource);

/** One GET against the API server: status and body text. */
export type ApiGet = (path: string) => Promise<{ status: number; body: string }>;

/**
 * GETs with the kubeconfig's current context (server, CA, client certificate, token or exec credentials),
 * each bounded by `timeoutMs`. Bodies are returned as text; nothing is deserialised into client-node's model
 * classes, so objects stay as the API server wrote them (what `kubectl get -o json` shows).
 */
export function kubeConfigGet(kubeConfig: KubeConfig, timeoutMs: number): ApiGet {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new GracekeeperError(ErrorCode.ClusterUnavailable, `kubeconfig context '${kubeConfig.getCurrentContext()}' names no cluster`, 'kubeconfig');
  }
  const server = cluster.server.replace(/\/+$/, '');
  return async (path) => {
    const url = new URL(`${server}${path}`);
    const options: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' }, timeout: timeoutMs };
    await kubeConfig.applyToHTTPSOptions(options);
    const get = url.protocol === 'http:' ? (await import('node:http')).request : request;
    return new Promise((resolve, reject) => {
      const req = get(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  };
}

function statusMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
  } catch {
    /* not a Status object */
  }
  return body.trim().split('\n')[0]?.slice(0, 200) ?? '';
}

/** Where a list goes: one namespace, or all of them (cluster-scoped resources ignore it). */
export type ListScope = { namespace: string } | { allNamespaces: true };

function listPath(r: ListedResource, scope: ListScope, continueToken: string | undefined, limit: number): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && 'namespace' in scope ? `/namespaces/${encodeURIComponent(scope.namespace)}` : '';
  const query = new URLSearchParams({ limit: String(limit) });
  if (continueToken) query.set('continue', continueToken);
  return `${base}${ns}/${r.resource}?${query}`;
}

function scopeText(r: ListedResource, scope: ListScope): string {
  if (!r.namespaced) return 'at the cluster scope';
  return 'namespace' in scope ? `in namespace '${scope.namespace}'` : 'in all namespaces (cluster scope)';
}

/** A refused or failed list as one line naming the verb, the resource and where. */
export function listError(r: ListedResource, scope: ListScope, status: number, body: string): GracekeeperError {
  const what = `list ${qualifiedName(r)} ${scopeText(r, scope)}`;
  const said = statusMessage(body);
  if (status === 403) {
    return new GracekeeperError(
      ErrorCode.ClusterForbidden,
      `forbidden: cannot ${what}: RBAC must allow verb 'list' on resource '${qualifiedName(r)}'${said ? ` (API server: ${said})` : ''}`,
    );
  }
  if (status === 401) {
    return new GracekeeperError(ErrorCode.ClusterForbidden, `unauthorized: the credentials of the kubeconfig were rejected when trying to ${what}${said ? ` (${said})` : ''}`);
  }
  if (status === 410) {
    return new GracekeeperError(
      ErrorCode.ClusterUnavailable,
      `cannot ${what}: the continue token expired before the next page was read (the listing took too long); run again, or narrow it with -n${said ? ` (${said})` : ''}`,
    );
  }
  return new GracekeeperError(ErrorCode.ClusterUnavailable, `cannot ${what}: HTTP ${status}${said ? `: ${said}` : ''}`);
}

export interface ListOptions {
  limit?: number;
  /** Called after each page with the number of items listed so far. */
  onPage?: (listed: number) => void;
}

/**
 * Every object of a resource, read in pages of `limit` (the API's limit/continue), each with its apiVersion and
 * kind set (list items come without them). Throws GracekeeperError: ClusterForbidden on 401/403, naming the verb
 * and the resource; ClusterUnavailable on anything else.
 */
export async function listAll(get: ApiGet, r: ListedResource, scope: ListScope, options: ListOptions = {}): Promise<KubeObject[]> {
  const limit = options.limit ?? 500;
  const items: KubeObject[] = [];
  let continueToken: string | undefined;
  for (;;) {
    let answer: { status: number; body: string };
    try {
      answer = await get(listPath(r, scope, continueToken, limit));
    } catch (err) {
      throw new GracekeeperError(ErrorCode.ClusterUnavailable, `cannot list ${qualifiedName(r)}: ${(err as Error).message}`);
    }
    if (answer.status !== 200) throw listError(r, scope, answer.status, answer.body);
    let list: { items?: unknown; metadata?: { continue?: unknown } };
    try {
      list = JSON.parse(answer.body) as typeof list;
    } catch {
      throw new GracekeeperError(ErrorCode.ClusterUnavailable, `cannot list ${qualifiedName(r)}: the API server's answer is not JSON`);
    }
    if (!Array.isArray(list.items)) {
      throw new GracekeeperError(ErrorCode.ClusterUnavailable, `cannot list ${qualifiedName(r)}: the API server's answer has no items`);
    }
    for (const item of list.items as KubeObject[]) {
      items.push({ apiVersion: apiVersionOf(r), kind: r.kind, ...item });
    }
    options.onPage?.(items.length);
    const next = list.metadata?.continue;
    if (typeof next !== 'string' || next === '') return items;
    if (next === continueToken) {
      throw new GracekeeperError(ErrorCode.ClusterUnavailable, `cannot list ${qualifiedName(r)}: the API server returned the same continue token twice`);
    }
    continueToken = next;
  }
}

/** The API server's gitVersion from /version, or undefined when it cannot be read. */
export async function apiServerVersion(get: ApiGet): Promise<string | undefined> {
  try {
    const answer = await get('/version');
    if (answer.status !== 200) return undefined;
    const v = (JSON.parse(answer.body) as { gitVersion?: unknown }).gitVersion;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
