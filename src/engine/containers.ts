import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { PolicyConfig } from '../config/policy.js';
import type { Workload } from './types.js';

export const PROXY_CONTAINERS_ANNOTATION = 'gracekeeper.io/proxy-containers';

export interface ContainerEntry {
  container: V1Container;
  /** JSON pointer of the container inside the workload object. */
  path: string;
  init: boolean;
  index: number;
}

interface EntriesMemo {
  pointer: string;
  /** The containers the entries were made from, in order: the memo holds while the spec still lists these. */
  from: readonly V1Container[];
  entries: readonly ContainerEntry[];
}

/** Several rules list the same spec's containers in one evaluation; a spec keeps its list while it lists the same containers. */
const entriesMemo = new WeakMap<V1PodSpec, EntriesMemo>();

function listsSame(memo: EntriesMemo, spec: V1PodSpec, pointer: string): boolean {
  const regular = spec.containers ?? [];
  const init = spec.initContainers ?? [];
  if (memo.pointer !== pointer || memo.from.length !== regular.length + init.length) return false;
  return regular.every((c, i) => memo.from[i] === c) && init.every((c, i) => memo.from[regular.length + i] === c);
}

/** Regular containers, then init containers, with their pointers (shared: never edit the list). */
export function containerEntries(spec: V1PodSpec, pointer: string): readonly ContainerEntry[] {
  const memo = entriesMemo.get(spec);
  if (memo && listsSame(memo, spec, pointer)) return memo.entries;
  const regular = (spec.containers ?? []).map((container, index) => ({
    container,
    path: `${pointer}/containers/${index}`,
    init: false,
    index,
  }));
  const init = (spec.initContainers ?? []).map((container, index) => ({
    container,
    path: `${pointer}/initContainers/${index}`,
    init: true,
    index,
  }));
  const entries = [...regular, ...init];
  entriesMemo.set(spec, { pointer, from: entries.map((e) => e.container), entries });
  return entries;
}

/** An init container with restartPolicy Always: started before and stopped after the app. */
export function isNativeSidecar(c: V1Container): boolean {
  return c.restartPolicy === 'Always';
}

/** Regular containers and native sidecars: they run alongside the app, while plain init containers run first, to completion. */
export function runsAlongsideApp(e: ContainerEntry): boolean {
  return !e.init || isNativeSidecar(e.container);
}

/** A container that declares a TCP port: endpoints route traffic to it. */
export function isServing(c: V1Container): boolean {
  return (c.ports ?? []).some((p) => (p.protocol ?? 'TCP') === 'TCP');
}

/** Entries kept per memo below before it starts afresh: bounds memory whatever the images and annotations seen. */
const MEMO_LIMIT = 10_000;

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

/** Compiled patterns and their answers per image, per pattern list (a config reload brings new lists). */
const matchMemo = new WeakMap<readonly string[], { regexes: RegExp[]; answers: Map<string, boolean> }>();

export function imageMatches(image: string | undefined, patterns: readonly string[]): boolean {
  if (!image) return false;
  let memo = matchMemo.get(patterns);
  if (!memo) {
    memo = { regexes: patterns.map((p) => new RegExp(p)), answers: new Map() };
    matchMemo.set(patterns, memo);
  }
  const known = memo.answers.get(image);
  if (known !== undefined) return known;
  return remember(memo.answers, image, memo.regexes.some((r) => r.test(image)));
}

/** Annotation from the pod template, else the workload itself. */
export function annotation(w: Workload, key: string): string | undefined {
  return w.templateMetadata.annotations?.[key] ?? w.metadata.annotations?.[key] ?? undefined;
}

const NOTHING_LISTED: readonly string[] = Object.freeze([]);
const listMemo = new Map<string, readonly string[]>();

/** A comma-separated annotation as its non-empty items (read-only: the list is shared). */
export function listAnnotation(w: Workload, key: string): readonly string[] {
  const raw = annotation(w, key);
  if (!raw) return NOTHING_LISTED;
  const known = listMemo.get(raw);
  if (known) return known;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return remember(listMemo, raw, Object.freeze(items));
}

/** A proxy sidecar: its image matches a configured pattern or the workload names it as one. */
export function isProxy(c: V1Container, w: Workload, config: PolicyConfig): boolean {
  return imageMatches(c.image, config.proxy.imagePatterns) || listAnnotation(w, PROXY_CONTAINERS_ANNOTATION).includes(c.name);
}

/** Whether the image is known to ship a shell with `sleep`. */
export function hasShell(c: V1Container, config: PolicyConfig): boolean {
  return imageMatches(c.image, config.proxy.shellImagePatterns);
}

/**
 * How long a container's preStop hook keeps it alive, when that can be read: the sleep action,
 * `exec: [sleep, N]` or `exec: [sh, -c, "sleep N"]`. Undefined when there is no hook; `unknownSeconds`
 * when there is one whose duration cannot be read (an HTTP call, a script).
 */
export function preStopSeconds(c: V1Container, unknownSeconds: number): number | undefined {
  const hook = c.lifecycle?.preStop;
  if (!hook) return undefined;
  if (hook.sleep && typeof hook.sleep.seconds === 'number') return hook.sleep.seconds;
  const cmd = hook.exec?.command ?? [];
  const text = cmd.length >= 2 && /(^|\/)(ba)?sh$/.test(cmd[0] ?? '') ? cmd.slice(1).join(' ') : cmd.join(' ');
  const m = /^(?:-c\s+)?(?:\/bin\/|\/usr\/bin\/)?sleep\s+(\d+)(s)?\s*$/.exec(text.trim());
  if (m) return Number(m[1]);
  return unknownSeconds;
}

/** Parses 'MAJOR.MINOR' (optionally v-prefixed, with patch) to a comparable minor number; NaN if unreadable. */
const minorMemo = new Map<string, number>();

export function minorOf(version: string): number {
  const known = minorMemo.get(version);
  if (known !== undefined) return known;
  const m = /^v?1\.(\d+)/.exec(version.trim());
  return remember(minorMemo, version, m ? Number(m[1]) : Number.NaN);
}
