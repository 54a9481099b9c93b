import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ErrorCode, GracekeeperError } from '../errors.js';

/** Reads a YAML (or JSON) config file into a plain value; errors name the file and line. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new GracekeeperError(ErrorCode.ConfigUnreadable, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message, path);
  }
  try {
    return parse(text, { prettyErrors: false }) ?? {};
  } catch (e) {
    // With prettyErrors off, YAML errors carry the offset (pos), not linePos.
    const pos = (e as { pos?: [number, number] }).pos?.[0];
    const line = pos === undefined ? undefined : text.slice(0, pos).split('\n').length;
    throw new GracekeeperError(ErrorCode.ConfigInvalid, (e as Error).message.split('\n')[0] ?? 'YAML syntax error', line ? `${path}:${line}` : path);
  }
}
