import type { V1LabelSelector } from '@kubernetes/client-node';

/**
 * Whether a label selector selects an object with these labels, with the API server's semantics
 * (k8s.io/apimachinery/pkg/labels): matchLabels and every matchExpression must hold; `NotIn` and
 * `DoesNotExist` hold when the key is absent; an empty or absent selector selects everything.
 * Throws on an operator the API server would refuse, so a typo in the chart cannot pass silently.
 */
export function selects(selector: V1LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  const has = (key: string) => Object.prototype.hasOwnProperty.call(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    switch (operator) {
      case 'In':
        if (values.length === 0) throw new Error(`selector on ${key}: In needs values`);
        if (!has(key) || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (values.length === 0) throw new Error(`selector on ${key}: NotIn needs values`);
        if (has(key) && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) throw new Error(`selector on ${key}: ${operator} takes no values`);
        if (has(key) !== (operator === 'Exists')) return false;
        break;
      default:
        throw new Error(`selector on ${key}: unknown operator '${operator}'`);
    }
  }
  return true;
}
