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
 * Deeper than any object the webhook is sent (a Pod or Deployment with managedFields nests about 20 levels).
 * Deeper bodies are refused: copying the object and diffing the patch recurse, and 10,000 levels would
 * overflow the stack (a 500 instead of an answer).
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether an object or array, counted as one level, holds objects/arrays over `levels` levels deep in all.
 * Recursion stops after `levels` calls, so the stack stays shallow whatever the body; no allocation per node
 * (this runs on every request).
 */
export function nestsDeeperThan(value: object, levels: number): boolean {
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const child of value) if (typeof child === 'object' && child !== null && nestsDeeperThan(child, levels - 1)) return true;
    return false;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && nestsDeeperThan(child, levels - 1)) return true;
  }
  return false;
}

/**
 * The request body parser: JSON.parse with reasons a person can act on (fastify's own parser says only "not
 * valid JSON"), a nesting limit, and the same refusal of prototype-poisoning keys as fastify's default.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw notJson('body is empty: expected an AdmissionReview');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw notJson(`body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value === 'object' && value !== null && nestsDeeperThan(value, MAX_JSON_DEPTH)) throw notJson(`body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  if (text.includes('"__proto__"') || text.includes('"constructor"')) {
    const key = poisonedKey(value);
    if (key) throw notJson(`body has a forbidden ${key} key`);
  }
  return value;
}
