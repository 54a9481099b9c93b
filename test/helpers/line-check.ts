/**
 * Which lines of `before` are kept, unchanged and in order, in `after` (a longest common subsequence of lines):
 * `lost` are the 0-based numbers of the lines of `before` that are not, `added` those of `after`. A text edited
 * in place loses only the lines its edits touch.
 */
export function keptLines(before: string, after: string): { lost: number[]; added: number[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  if (n * m > 25_000_000) throw new Error('texts too different to compare line by line');
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] = a[start + i] === b[start + j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const lost: number[] = [];
  const added: number[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      i++;
      j++;
    } else if (j >= m || (i < n && table[i + 1]![j]! >= table[i]![j + 1]!)) lost.push(start + i++);
    else added.push(start + j++);
  }
  return { lost, added };
}

/**
 * The first line of `before` outside `touched` (0-based line numbers) that is missing from `after`, unchanged
 * and in order; undefined when every such line is kept. Moved lines may sit anywhere: they are in `touched`.
 */
export function firstLostLine(before: string, after: string, touched: ReadonlySet<number>): { line: number; text: string } | undefined {
  const out = after.split('\n');
  let j = 0;
  const lines = before.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (touched.has(i)) continue;
    while (j < out.length && out[j] !== lines[i]) j++;
    if (j === out.length) return { line: i, text: lines[i]! };
    j++;
  }
  return undefined;
}
