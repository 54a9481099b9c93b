import type { RenderStyle } from './yaml-render.js';

const KEY_LINE = /^( *)[^\s#-][^#]*:\s*(#.*)?$/; // `key:` opening a nested block
const CONTENT_LINE = /^( *)(-(?: +|$))?(\S?)/;

/**
 * How a YAML text is laid out (indent width, whether sequences under a key are indented, spaces after a dash and
 * inside flow braces, line ends), so new lines read like the rest of the file and the diff shows only the fix.
 */
export function detectYamlStyle(text: string): RenderStyle {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const gaps = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const dash = /^ *-( +)[^\s-]/.exec(lines[i]!);
    if (dash) gaps.set(dash[1]!.length, (gaps.get(dash[1]!.length) ?? 0) + 1);
    if (i + 1 >= lines.length || (indent !== undefined && indentSeq !== undefined)) continue;
    const key = KEY_LINE.exec(lines[i]!);
    const next = CONTENT_LINE.exec(lines[i + 1]!);
    if (!key || !next) continue;
    const depth = next[1]!.length - key[1]!.length;
    if (next[2]) indentSeq ??= depth > 0;
    else if (depth > 0) indent ??= depth;
  }
  const seqGap = [...gaps.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 1;
  const padded = (text.match(/[[{] [^\s\]}]/g) ?? []).length;
  const tight = (text.match(/[[{][^\s\]}]/g) ?? []).length;
  return {
    indent: indent ?? 2,
    indentSeq: indentSeq ?? true,
    seqGap,
    flowPadding: padded > tight,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
  };
}
