import { manifestDocument } from '../manifests/yaml11.js';

/** How new YAML is laid out, taken from the file it goes into (yaml-style.ts). */
export interface RenderStyle {
  /** Spaces per nesting level of block mappings. */
  indent: number;
  /** Whether a block sequence under a key is indented (`key:\n  - a`) or not (`key:\n- a`). */
  indentSeq: boolean;
  /** Spaces after a block sequence's dash: 1 for `- name: web`, 3 for `-   name: web`. */
  seqGap: number;
  /** Spaces inside flow braces: `{ a: 1 }` rather than `{a: 1}`. */
  flowPadding: boolean;
  eol: string;
}

/** Separators of JSON text: `:` or `: `, `,` or `, `, and the indent unit when pretty-printed. */
export interface JsonStyle {
  colon: string;
  comma: string;
  /** Pretty-printed with this indent unit; undefined for JSON on one line. */
  indent?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : isRecord(v) && Object.keys(v).length === 0);
const plainCache = new Map<string, boolean>();

/**
 * Whether `s` can be written as a plain scalar that Kubernetes reads back as the same string: the `yaml` package
 * with go-yaml's rules (yaml11.ts) quotes anything that would read as a number, boolean or null, or that holds
 * an indicator. In flow collections `,[]{}` end a plain scalar.
 */
function plainOk(s: string, inFlow: boolean): boolean {
  // `<<` is a merge key; a date reads as a timestamp to other YAML 1.1 readers; go-yaml's scanner (libyaml's) may
  // end or refuse a plain scalar at `:` or `?` inside a flow collection.
  if (s === '' || s === '<<' || /[\n\r\t]|^ | $|^\d{4}-\d\d?-\d\d?/.test(s) || (inFlow && /[,[\]{}:?]/.test(s))) return false;
  let ok = plainCache.get(s);
  if (ok === undefined) {
    ok = manifestDocument(s).toString({ lineWidth: 0 }) === `${s}\n`;
    if (plainCache.size > 10_000) plainCache.clear();
    plainCache.set(s, ok);
  }
  return ok;
}

/** A double-quoted scalar; JSON's escapes are YAML's, and YAML also wants DEL and C1 controls escaped. */
export function doubleQuoted(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export type ScalarStyle = 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE';

/** A scalar on one line, in `prefer` style where that reads back as `value`. */
export function inlineScalar(value: unknown, inFlow: boolean, prefer: ScalarStyle = 'PLAIN'): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isNaN(value) ? '.nan' : value === Infinity ? '.inf' : value === -Infinity ? '-.inf' : String(value);
  if (typeof value !== 'string') throw new Error(`cannot write a ${typeof value} as YAML`);
  if (prefer === 'QUOTE_SINGLE' && !/[\n\r\t\u0000-\u001f\u007f-\u009f]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (prefer === 'PLAIN' && plainOk(value, inFlow)) return value;
  return doubleQuoted(value);
}

/** A mapping key on one line. */
export const inlineKey = (key: string, inFlow: boolean) => (plainOk(key, inFlow) ? key : doubleQuoted(key));

/** A value in YAML flow style, on one line: `{name: web, ports: [80]}`. */
export function flowText(value: unknown, padding: boolean): string {
  const pad = padding ? ' ' : '';
  if (Array.isArray(value)) return value.length ? `[${pad}${value.map((v) => flowText(v, padding)).join(', ')}${pad}]` : '[]';
  if (isRecord(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${inlineKey(k, true)}: ${flowText(v, padding)}`);
    return entries.length ? `{${pad}${entries.join(', ')}${pad}}` : '{}';
  }
  return inlineScalar(value, true);
}

/**
 * A value as JSON in the given style. Pretty-printed JSON starts at the current position; its later lines are
 * prefixed with `margin` (the indentation of the line it starts on).
 */
export function jsonText(value: unknown, style: JsonStyle, margin = '', eol = '\n'): string {
  const scalar = (v: unknown) => (typeof v === 'string' ? doubleQuoted(v) : JSON.stringify(v) ?? 'null');
  const write = (v: unknown, level: string): string => {
    const entries = Array.isArray(v)
      ? v.map((item) => write(item, level + (style.indent ?? '')))
      : isRecord(v)
        ? Object.entries(v).map(([k, item]) => `${doubleQuoted(k)}${style.colon}${write(item, level + (style.indent ?? ''))}`)
        : undefined;
    if (!entries) return scalar(v);
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return `${open}${close}`;
    if (style.indent === undefined) return `${open}${entries.join(style.comma)}${close}`;
    const inner = `${eol}${margin}${level}${style.indent}`;
    return `${open}${inner}${entries.join(`,${inner}`)}${eol}${margin}${level}${close}`;
  };
  return write(value, '');
}

/**
 * The block-style text that follows `key:` or `-` for a value: ` scalar`, ` {}`, or a line break and the value's
 * lines. `column` is the column of the key (or of the dash); `afterDash` says the value is a sequence item, where
 * a mapping starts on the dash's line (`- name: web`).
 */
export function blockTail(value: unknown, column: number, style: RenderStyle, afterDash = false): string {
  const space = afterDash ? ' '.repeat(style.seqGap) : ' ';
  if (!Array.isArray(value) && !isRecord(value)) return `${space}${inlineScalar(value, false)}`;
  if (isEmpty(value)) return `${space}${Array.isArray(value) ? '[]' : '{}'}`;
  if (afterDash) {
    const content = column + 1 + style.seqGap;
    return `${' '.repeat(style.seqGap)}${blockLines(value, content, style).join(style.eol).slice(content)}`;
  }
  const child = column + (Array.isArray(value) ? (style.indentSeq ? style.indent : 0) : style.indent);
  return `${style.eol}${blockLines(value, child, style).join(style.eol)}`;
}

/** The lines of a non-empty block collection whose entries start at `column`. */
export function blockLines(value: unknown, column: number, style: RenderStyle): string[] {
  const margin = ' '.repeat(column);
  if (Array.isArray(value)) return value.map((item) => `${margin}-${blockTail(item, column, style, true)}`).flatMap((t) => t.split(style.eol));
  if (isRecord(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${margin}${inlineKey(k, false)}:${blockTail(v, column, style)}`)
      .flatMap((t) => t.split(style.eol));
  }
  throw new Error('blockLines takes a mapping or a sequence');
}
