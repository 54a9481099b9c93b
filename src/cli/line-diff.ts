/** One line of a diff: kept (' '), removed ('-') or added ('+'). */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

/** A run of diff lines around changes, with the 1-based line numbers it starts at on each side. */
export interface DiffHunk {
  beforeStart: number;
  afterStart: number;
  lines: DiffLine[];
}

/** Longest-common-subsequence table cells allowed after trimming common ends; beyond it, no line diff. */
const MAX_CELLS = 4_000_000;

/**
 * The line diff of two texts (shortest edit by longest common subsequence), or undefined when the part that
 * differs is too large to diff in reasonable memory. Common leading and trailing lines are trimmed first, so
 * a few changed lines in a long pod spec cost little.
 */
export function diffLines(before: readonly string[], after: readonly string[]): DiffLine[] | undefined {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  const a = before.slice(start, endB);
  const b = after.slice(start, endA);
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return undefined;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const middle: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      middle.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
      middle.push({ op: '+', text: b[j]! });
      j++;
    } else {
      middle.push({ op: '-', text: a[i]! });
      i++;
    }
  }
  return [
    ...before.slice(0, start).map((text) => ({ op: ' ' as const, text })),
    ...middle,
    ...before.slice(endB).map((text) => ({ op: ' ' as const, text })),
  ];
}

/** The changed lines with `context` unchanged lines around each change, as unified-diff hunks. */
export function hunks(lines: readonly DiffLine[], context = 3): DiffHunk[] {
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((l, index) => {
    if (l.op === ' ') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) keep[k] = true;
  });
  const result: DiffHunk[] = [];
  let beforeLine = 1;
  let afterLine = 1;
  let current: DiffHunk | undefined;
  lines.forEach((l, index) => {
    if (keep[index]) {
      current ??= { beforeStart: beforeLine, afterStart: afterLine, lines: [] };
      current.lines.push(l);
    } else if (current) {
      result.push(current);
      current = undefined;
    }
    if (l.op !== '+') beforeLine++;
    if (l.op !== '-') afterLine++;
  });
  if (current) result.push(current);
  return result;
}
