/** kubectl prints each warning on one line; Kubernetes asks webhooks to keep them under 120 characters. */
export const MAX_WARNING_LENGTH = 119;
/** Beyond this many, one last warning says how many more there were (the details are in logs and status). */
export const MAX_WARNINGS = 20;

const ELLIPSIS = '...';
/** Dropped before the ellipsis: space , ; : . */
const TRAILING = new Set([0x20, 0x2c, 0x3b, 0x3a, 0x2e]);

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

/**
 * Whether printableLine would keep `text` as it is up to where clip reads it (index max): printable words with
 * single spaces between them, none at the start, and no space at `max` without a word after it. Every message the
 * rules write is such a sentence, so clip then works on the text itself and builds no new line.
 */
function plainUpTo(text: string, max: number): boolean {
  const end = Math.min(text.length, max + 2);
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (printable(code)) continue;
    if (code === 0x20 && i > 0 && i + 1 < text.length && printable(text.charCodeAt(i - 1)) && printable(text.charCodeAt(i + 1))) continue;
    return false;
  }
  return true;
}

/** One line (whitespace collapsed), cut at a word boundary when too long, ending in "..." when cut. */
export function clip(text: string, max = MAX_WARNING_LENGTH): string {
  const line = plainUpTo(text, max) ? text : printableLine(text, max);
  if (line.length <= max) return line;
  const room = max - ELLIPSIS.length;
  const cut = line.lastIndexOf(' ', room);
  // The line is printable ASCII and single spaces, so the punctuation and spaces before the "..." are these.
  let end = cut > room * 0.6 ? cut : room;
  while (end > 0 && TRAILING.has(line.charCodeAt(end - 1))) end--;
  return line.slice(0, end) + ELLIPSIS;
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
