import type { ToStringOptions } from 'yaml';

const KEY_LINE = /^( *)[^\s#-][^#]*:\s*(#.*)?$/; // `key:` opening a nested block
const CONTENT_LINE = /^( *)(- )?\S/;

/**
 * How a YAML text is laid out (indent width, whether sequences under a key are indented, spaces inside flow
 * collections), so a re-written document reads like the rest of the file and the diff shows only the fix.
 */
export function detectYamlStyle(text: string): ToStringOptions {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  for (let i = 0; i + 1 < lines.length && (indent === undefined || indentSeq === undefined); i++) {
    const key = KEY_LINE.exec(lines[i]!);
    const next = CONTENT_LINE.exec(lines[i + 1]!);
    if (!key || !next) continue;
    const depth = next[1]!.length - key[1]!.length;
    if (next[2]) indentSeq ??= depth > 0;
    else if (depth > 0) indent ??= depth;
  }
  const padded = (text.match(/[[{] [^\s\]}]/g) ?? []).length;
  const tight = (text.match(/[[{][^\s\]}]/g) ?? []).length;
  return {
    indent: indent ?? 2,
    indentSeq: indentSeq ?? true,
    flowCollectionPadding: padded >= tight,
    lineWidth: 0, // never fold long strings the user wrote on one line
  };
}

/** Indentation of a JSON text (spaces before its second line), for writing it back the same way. */
export function detectJsonIndent(text: string): number {
  const m = /\n( +)\S/.exec(text);
  return m ? m[1]!.length : 2;
}
