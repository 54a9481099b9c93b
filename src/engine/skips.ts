import { annotation } from './containers.js';
import type { Workload } from './types.js';

export const SKIP_ANNOTATION = 'gracekeeper.io/skip';
export const SKIP_REASON_ANNOTATION = 'gracekeeper.io/skip-reason';

export interface SkipRequest {
  /** Rule ids listed, or 'all'. Empty when the annotation is absent. */
  ids: string[];
  all: boolean;
  reason: string | undefined;
  /** Honoured only with a non-empty reason. */
  honoured: boolean;
  /** Pointer of the annotation, for findings. */
  path: string;
}

/** Reads the exemption annotations from the pod template or the workload. */
export function readSkip(w: Workload): SkipRequest | null {
  const raw = annotation(w, SKIP_ANNOTATION);
  if (raw === undefined) return null;
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const reason = annotation(w, SKIP_REASON_ANNOTATION)?.trim() || undefined;
  const onTemplate = w.templateMetadata.annotations?.[SKIP_ANNOTATION] !== undefined && w.templateMetadata !== w.metadata;
  const metaPointer = onTemplate ? `${w.pointer.slice(0, -'/spec'.length)}/metadata` : '/metadata';
  return {
    ids,
    all: ids.includes('all'),
    reason,
    honoured: reason !== undefined,
    path: `${metaPointer}/annotations/${SKIP_ANNOTATION.replace(/~/g, '~0').replace(/\//g, '~1')}`,
  };
}

export function isSkipped(skip: SkipRequest | null, ruleId: string): boolean {
  return !!skip && skip.honoured && (skip.all || skip.ids.includes(ruleId));
}
