/**
 * Issue 15: every document of the real-world corpus that `gracekeeper mutate` changes is sent to a real
 * kube-apiserver as a server-side dry-run create, next to its original. A fix must never turn an object the API
 * server accepts into one it rejects (an octal mode read as decimal, a sleep not shorter than the grace period, a
 * probe on a port name that does not exist ...). Originals the API server rejects for reasons of their own (a
 * removed apiVersion, a missing ServiceAccount) are listed; their mutated copy must be rejected for the same reason.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { mutate } from '../../src/cli/mutate.js';
import { defaultPolicyConfig } from '../../src/config/policy.js';
import { isWorkloadKind } from '../../src/engine/workload.js';
import { parseManifests } from '../../src/manifests/parse.js';
import { startControlPlane } from '../cluster/controlPlane.js';
import { waitFor } from '../cluster/processes.js';
import { CLUSTER_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(CLUSTER_FILE_TIMEOUT_MS);

const CORPUS = fileURLToPath(new URL('../fixtures/real-world/', import.meta.url));
const DEFAULT_NAMESPACE = 'real-world';

function corpusFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return corpusFiles(path);
      return /\.(ya?ml|json)$/i.test(name) && !/^expected-/.test(name) ? [path] : [];
    });
}

interface Changed {
  where: string;
  original: KubernetesObject;
  mutated: KubernetesObject;
}

/** The workloads mutate changed, paired with their originals (same document, same List item). */
function changedWorkloads(): Changed[] {
  const config = defaultPolicyConfig();
  const changed: Changed[] = [];
  for (const file of corpusFiles(CORPUS)) {
    const text = readFileSync(file, 'utf8');
    const name = relative(CORPUS, file);
    const result = mutate({ name, text }, config);
    if (result.output === undefined || result.output === text) continue;
    const before = parseManifests(text, name).manifests;
    const after = new Map(parseManifests(result.output, name).manifests.map((m) => [`${m.document}${m.pointer}`, m]));
    for (const m of before) {
      const fixed = after.get(`${m.document}${m.pointer}`);
      if (!fixed || !isWorkloadKind(m.object.kind)) continue;
      if (JSON.stringify(fixed.object) === JSON.stringify(m.object)) continue;
      changed.push({ where: m.source, original: m.object as KubernetesObject, mutated: fixed.object as KubernetesObject });
    }
  }
  return changed;
}

const changed = changedWorkloads();
t.ok(changed.length >= 20, `mutate changes workloads of the corpus (${changed.length})`);

// The controller manager makes each namespace's default ServiceAccount, which a Pod needs to be admitted.
const cp = await startControlPlane({ log: (m) => t.comment(m) });
t.teardown(() => cp.stop());
const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const namespaces = new Set<string>();

async function ensureNamespace(name: string): Promise<void> {
  if (namespaces.has(name)) return;
  namespaces.add(name);
  await core.createNamespace({ body: { metadata: { name } } }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
  await waitFor(`default ServiceAccount in ${name}`, async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: name }).catch(() => undefined)) ? true : undefined), {
    timeoutMs: 60_000,
  });
}

/** A Status body's details.causes as sorted `field: message` lines, or undefined when it has none. */
function statusCauses(text: string): string | undefined {
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch {
    return undefined;
  }
  const causes = (status as { details?: { causes?: Array<{ field?: string; message?: string }> } } | null)?.details?.causes;
  if (!Array.isArray(causes) || causes.length === 0) return undefined;
  return `[${causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`).sort().join('; ')}]`;
}

/** The API server's verdict on a dry-run create: 'accepted' or its error message (causes sorted). */
async function dryRun(obj: KubernetesObject): Promise<string> {
  const namespace = obj.metadata?.namespace || DEFAULT_NAMESPACE;
  await ensureNamespace(namespace);
  const body = { ...obj, metadata: { ...obj.metadata, namespace } };
  try {
    await objects.create(body, undefined, 'All');
    return 'accepted';
  } catch (e) {
    const err = e as { code?: number; body?: unknown; message?: string };
    const text = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? err.message);
    const message = /"message":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? text;
    // The API server lists the causes of a 422 in Go map order (e.g. one per annotation), which differs between
    // two calls: compare them sorted.
    const causes = statusCauses(text);
    return `rejected (${err.code ?? '?'}): ${causes ? `${message.replace(/: \[.*\]$/s, '')}: ${causes}` : message}`;
  }
}

t.test('a mutated workload is accepted wherever its original is', async (t) => {
  let accepted = 0;
  const rejectedOriginals: string[] = [];
  for (const c of changed) {
    const before = await dryRun(c.original);
    const after = await dryRun(c.mutated);
    if (before === 'accepted') {
      accepted++;
      t.equal(after, 'accepted', `${c.where}: the mutated ${c.original.kind} is accepted like the original`);
    } else {
      rejectedOriginals.push(`${c.where}: ${before}`);
      t.equal(after, before, `${c.where}: rejected for the original's own reason, nothing more`);
    }
  }
  t.ok(accepted > 0, `${accepted} mutated workloads accepted by the API server`);
  if (rejectedOriginals.length > 0) t.comment(`originals the API server rejects by themselves:\n${rejectedOriginals.join('\n')}`);
});
