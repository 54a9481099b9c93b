import { ErrorCode, GracekeeperError } from '../errors.js';

function notJson(message: string): GracekeeperError {
  return new GracekeeperError(ErrorCode.ReviewNotJson, message);
}

/** An own `__proto__` key, or a `constructor` object with a `prototype`: harmless in JSON.parse's result, but
 * a merge or copy elsewhere could turn them into prototype pollution. Iterative: bodies may nest deeply. */
function poisonedKey(root: unknown): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Object.hasOwn(value, '__proto__')) return '__proto__';
    const ctor = (value as Record<string, unknown>).constructor;
    if (Object.hasOwn(value, 'constructor') && typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) return 'constructor.prototype';
    for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return undefined;
}

/**
 * The request body parser: JSON.parse with reasons a person can act on (fastify's own parser says only "not
 * valid JSON") and the same refusal of prototype-poisoning keys as fastify's default.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw notJson('body is empty: expected an AdmissionReview');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw notJson(`body is not valid JSON: ${(e as Error).message}`);
  }
  if (text.includes('"__proto__"') || text.includes('"constructor"')) {
    const key = poisonedKey(value);
    if (key) throw notJson(`body has a forbidden ${key} key`);
  }
  return value;
}
