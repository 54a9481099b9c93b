/**
 * A deep copy of JSON data (what JSON.parse and the YAML parser give). Node 20's structuredClone is several times
 * slower on such data, and the engine copies every object it fixes, on the request path. Anything that is not a
 * plain object, an array or a primitive is copied by structuredClone.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    // JSON.parse makes `__proto__` an own key; plain assignment would set the copy's prototype instead.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: cloneJson(child), enumerable: true, writable: true, configurable: true });
    else copy[key] = cloneJson(child);
  }
  return copy as T;
}
