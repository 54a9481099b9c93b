/** kubectl prints each warning on one line; Kubernetes asks webhooks to keep them under 120 characters. */
export const MAX_WARNING_LENGTH = 119;
/** Beyond this many, one last warning says how many more there were (the details are in logs and status). */
export const MAX_WARNINGS = 20;

const ELLIPSIS = '...';

function printable(code: number): boolean {
  return code > 0x20 && code < 0x7f;
}

/**
 * `text` as one line of printable ASCII (warnings travel as HTTP Warning headers): every run of spaces, control or
 * non-ASCII characters becomes one space, none at either end. Stops once the line is longer than `limit`, so a
 * long message costs no more than a short one (a 43-container Pod brings 43 messages of ~260 characters).
 */
function printableLine(text: string, limit: number): string {
  let line = '';
  for (let i = 0; i < text.length && line.length <= limit; ) {
    while (i < text.length && !printable(text.charCodeAt(i))) i++;
    const start = i;
    while (i < text.length && printable(text.charCodeAt(i)) && i - start <= limit) i++;
    if (i > start) line += (line ? ' ' : '') + text.slice(start, i);
  }
  return line;
}

/** One line (whitespace collapsed), cut at a word boundary when too long, ending in "..." when cut. */
export function clip(text: string, max = MAX_WARNING_LENGTH): string {
  const line = printableLine(text, max);
  if (line.length <= max) return line;
  const room = max - ELLIPSIS.length;
  const cut = line.lastIndexOf(' ', room);
  const head = (cut > room * 0.6 ? line.slice(0, cut) : line.slice(0, room)).replace(/[\s,;:.]+$/, '');
  return head + ELLIPSIS;
}

/** Collects warnings in order, clipped and deduplicated, capped at MAX_WARNINGS. */
export class WarningList {
  private readonly items: string[] = [];
  private readonly seen = new Set<string>();
  private dropped = 0;

  add(text: string): void {
    const warning = clip(text);
    if (!warning || this.seen.has(warning)) return;
    this.seen.add(warning);
    if (this.items.length < MAX_WARNINGS) this.items.push(warning);
    else this.dropped++;
  }

  list(): string[] {
    return this.dropped > 0 ? [...this.items.slice(0, -1), `gracekeeper: ${this.dropped + 1} more warnings not shown (see the webhook's logs)`] : [...this.items];
  }
}
