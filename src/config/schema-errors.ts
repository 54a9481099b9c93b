import type { ValueError } from '@sinclair/typebox/value';

/** TypeBox's message in lower case, made readable for a union of literals ("expected union value" says nothing). */
export function describeValueError(error: ValueError): string {
  const options = (error.schema as { anyOf?: Array<{ const?: unknown; type?: string }> }).anyOf;
  if (options?.every((o) => o.const !== undefined || o.type === 'boolean' || o.type === 'null')) {
    const names = options.filter((o) => o.type !== 'null').map((o) => (o.const !== undefined ? String(o.const) : 'true, false'));
    return `must be one of ${names.join(', ')}`;
  }
  return error.message.toLowerCase();
}
