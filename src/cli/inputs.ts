import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GracekeeperError } from '../errors.js';
import type { CliIO } from './io.js';

export const STDIN_NAME = '<stdin>';
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The text of one input, with the name findings and errors use for it. */
export interface InputText {
  name: string;
  text: string;
}

export interface ReadInputs {
  inputs: InputText[];
  errors: GracekeeperError[];
}

const unreadable = (path: string, e: unknown) =>
  new GracekeeperError(
    ErrorCode.ManifestUnreadable,
    (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message,
    path,
  );

/** Manifest files under a directory, recursively, in name order; hidden entries (.git) are skipped. */
async function walk(dir: string, seen: Set<string>): Promise<string[]> {
  const real = await realpath(dir);
  if (seen.has(real)) return []; // a symlink loop
  seen.add(real);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).catch(() => null))?.isDirectory());
    if (isDir) files.push(...(await walk(path, seen)));
    else if (MANIFEST_FILE.test(entry.name)) files.push(path);
  }
  return files;
}

/**
 * Reads every argument: `-` is standard input, a directory gives its manifest files, anything else is read as
 * a file whatever its name. A path that cannot be read is an error; the others are still read.
 */
export async function readInputs(args: readonly string[], io: CliIO): Promise<ReadInputs> {
  const result: ReadInputs = { inputs: [], errors: [] };
  for (const arg of args) {
    if (arg === '-') {
      const text = await io.readStdin();
      // `helm template . | gracekeeper audit -` must not pass when helm failed and printed nothing.
      if (text.trim() === '') result.errors.push(new GracekeeperError(ErrorCode.ManifestUnreadable, 'standard input is empty', STDIN_NAME));
      else result.inputs.push({ name: STDIN_NAME, text });
      continue;
    }
    let files: string[];
    try {
      files = (await stat(arg)).isDirectory() ? await walk(arg, new Set()) : [arg];
    } catch (e) {
      result.errors.push(unreadable(arg, e));
      continue;
    }
    if (files.length === 0) {
      result.errors.push(new GracekeeperError(ErrorCode.ManifestUnreadable, 'directory holds no .yaml, .yml or .json files', arg));
    }
    for (const file of files) {
      try {
        result.inputs.push({ name: file, text: await readFile(file, 'utf8') });
      } catch (e) {
        result.errors.push(unreadable(file, e));
      }
    }
  }
  return result;
}
