import { STATUS_CODES } from 'node:http';

/** Longest API server message kept; they can quote whole objects. */
const MAX_LENGTH = 160;

const clip = (text: string): string => (text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text);

function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' && message ? message : undefined;
}

/**
 * One line saying why a request to the API server failed, for logs and lookup reasons. Handles client-node's
 * ApiException (code + body), its watch errors (statusCode) and network errors (node-fetch's FetchError).
 */
export function describeApiError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return clip(String(err));
  const e = err as { statusCode?: unknown; code?: unknown; body?: unknown; message?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.code === 'number' ? e.code : undefined;
  if (status !== undefined) {
    const detail = clip(statusMessage(e.body) ?? STATUS_CODES[status] ?? 'unexpected status');
    const hint =
      status === 401
        ? ' (credentials rejected)'
        : status === 403
          ? ' (RBAC: needs get, list, watch on persistentvolumeclaims, services, nodes)'
          : '';
    return `HTTP ${status}: ${detail}${hint}`;
  }
  const message = typeof e.message === 'string' ? e.message : String(err);
  // node-fetch: "request to https://host/path failed, reason: connect ECONNREFUSED 127.0.0.1:6443"
  const reason = / reason: (.+)$/s.exec(message)?.[1];
  return clip((reason ?? message).split('\n')[0] ?? message);
}
