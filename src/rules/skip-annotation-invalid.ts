import { SKIP_ANNOTATION, SKIP_REASON_ANNOTATION, readSkip } from '../engine/skips.js';
import type { Rule, RuleIssue } from '../engine/types.js';

/**
 * Flags exemptions that do not do what their author meant. The catalogue ids come from a function, so this rule
 * can be part of the catalogue it checks against without importing it (index.ts passes `() => RULE_IDS`).
 */
export function skipAnnotationInvalid(knownIds: () => readonly string[]): Rule {
  return {
    id: 'skip-annotation-invalid',
    summary: `A ${SKIP_ANNOTATION} annotation without ${SKIP_REASON_ANNOTATION} (not honoured) or naming unknown rules.`,
    defaultAction: 'warn',
    check(w) {
      const skip = readSkip(w);
      if (!skip) return [];
      const issues: RuleIssue[] = [];
      if (!skip.honoured) {
        issues.push({
          path: skip.path,
          message:
            `${SKIP_ANNOTATION} is ignored because ${SKIP_REASON_ANNOTATION} is missing or empty: every rule still runs. ` +
            `Add ${SKIP_REASON_ANNOTATION} saying why the exemption is safe.`,
        });
      }
      if (skip.ids.length === 0) {
        issues.push({
          path: skip.path,
          message: `${SKIP_ANNOTATION} lists no rule ids, so it skips nothing. Name the rules to skip (comma-separated) or 'all'.`,
        });
      }
      const known = knownIds();
      for (const id of skip.ids) {
        if (id === 'all' || known.includes(id)) continue;
        issues.push({
          path: skip.path,
          message:
            `${SKIP_ANNOTATION} names unknown rule '${id}', which skips nothing. ` +
            "Use the ids `gracekeeper rules` lists (or 'all').",
        });
      }
      return issues;
    },
  };
}
