import type { ValueError } from '@sinclair/typebox/value';

type UnionOptions = Array<{ const?: unknown; type?: string }> | undefined;

function isLiteralUnion(options: UnionOptions): boolean {
  return !!options?.every((o) => o.const !== undefined || o.type === 'boolean' || o.type === 'null');
}

/**
 * The error to report for a value that fails a union. TypeBox stops at the union ("expected union value" at
 * `spec.containers[0].ports` when `ports[0].containerPort` is a string); its alternatives say what is wrong.
 * The deepest failure of a non-null alternative is what the writer got wrong (every optional field is
 * `T | null`, and "expected null" helps nobody). Unions of literals keep their own error: describeValueError
 * lists the choices.
 */
export function specificError(error: ValueError): ValueError {
  if (error.errors.length === 0 || isLiteralUnion((error.schema as { anyOf?: UnionOptions }).anyOf)) return error;
  let best: ValueError | undefined;
  for (const alternative of error.errors) {
    const first = alternative.First();
    if (!first || (first.schema as { type?: string }).type === 'null') continue;
    const inner = specificError(first);
    if (!best || inner.path.length > best.path.length) best = inner;
  }
  return best ?? error;
}

/** TypeBox's message in lower case, made readable for a union of literals ("expected union value" says nothing). */
export function describeValueError(error: ValueError): string {
  const options = (error.schema as { anyOf?: UnionOptions }).anyOf;
  if (options && isLiteralUnion(options)) {
    const names = options.filter((o) => o.type !== 'null').map((o) => (o.const !== undefined ? String(o.const) : 'true, false'));
    return `must be one of ${names.join(', ')}`;
  }
  return error.message.toLowerCase();
}
