import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { audit } from '../../../src/cli/audit.js';
import { readInputs } from '../../../src/cli/inputs.js';
import type { CliIO } from '../../../src/cli/io.js';
import { mutate } from '../../../src/cli/mutate.js';
import { defaultPolicyConfig } from '../../../src/config/policy.js';

/** The real-world corpus: one folder per source (a repository's files, or `charts/<chart>` with its rendered output). */
export const CORPUS_DIR = fileURLToPath(new URL('../../fixtures/real-world/', import.meta.url));
export const EXPECTED_FINDINGS = join(CORPUS_DIR, 'expected-findings.yaml');
export const EXPECTED_FIXES = join(CORPUS_DIR, 'expected-fixes.yaml');

/** A folder a user would run `gracekeeper audit <folder>` on. */
export interface Source {
  /** Path under the corpus, with `/`: `kube-score`, `charts/postgresql`. */
  name: string;
  dir: string;
}

/** Where the CLI writes; the corpus never reads standard input. */
const NO_STDIN_IO: CliIO = {
  readStdin: async () => {
    throw new Error('the corpus never reads standard input');
  },
  stdout: { write: () => true },
  stderr: { write: () => true },
  colour: false,
};

const isDir = (p: string) => statSync(p).isDirectory();
const sortedDirs = (dir: string) =>
  readdirSync(dir)
    .filter((e) => !e.startsWith('.') && isDir(join(dir, e)))
    .sort();

/** Every source folder: each top-level folder, and each chart under `charts/` on its own (one `helm template` each). */
export function listSources(): Source[] {
  return sortedDirs(CORPUS_DIR).flatMap((top) =>
    top === 'charts'
      ? sortedDirs(join(CORPUS_DIR, top)).map((chart) => ({ name: `charts/${chart}`, dir: join(CORPUS_DIR, top, chart) }))
      : [{ name: top, dir: join(CORPUS_DIR, top) }],
  );
}

/** A path (or a message holding paths) relative to the corpus folder, with `/`, so records do not depend on the checkout. */
export function corpusRelative(text: string): string {
  return text.split(CORPUS_DIR).join('').split(sep).join('/');
}

/** The manifest files of a folder in the order `gracekeeper audit <folder>` reads them. */
export async function manifestFiles(dir: string): Promise<string[]> {
  const { inputs, errors } = await readInputs([dir], NO_STDIN_IO);
  if (errors.length > 0) throw new Error(`cannot read ${dir}: ${errors.map((e) => e.message).join('; ')}`);
  return inputs.map((i) => i.name);
}

/** One finding, in the words and place `gracekeeper audit` reports it. */
export interface FindingRecord {
  id: string;
  rule: string;
  action: string;
  kind: string;
  namespace: string;
  name: string;
  container: string | null;
  /** file:line relative to the corpus folder. */
  at: string;
  message: string;
  /** `gracekeeper mutate` would fix it on this workload. */
  fixable: boolean;
}

export interface AuditRecord {
  files: number;
  workloads: number;
  errors: string[];
  findings: FindingRecord[];
}

const locationOf = (at: string) => {
  const i = at.lastIndexOf(':');
  return { file: at.slice(0, i), line: Number(at.slice(i + 1)) };
};

/** Findings in a stable order: by file, line, rule, container, message. */
export function compareFindings(a: FindingRecord, b: FindingRecord): number {
  const la = locationOf(a.at);
  const lb = locationOf(b.at);
  if (la.file !== lb.file) return la.file < lb.file ? -1 : 1;
  if (la.line !== lb.line) return la.line - lb.line;
  for (const key of ['rule', 'kind', 'namespace', 'name', 'container', 'message'] as const) {
    const x = a[key] ?? '';
    const y = b[key] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * A short id for the review table: from what the finding is about (rule, file, workload, container), not from its
 * message or line, so it survives rewording. Repeats (the same rule twice on one container) get -2, -3, ...
 */
function assignIds(findings: FindingRecord[]): void {
  const seen = new Map<string, number>();
  for (const f of findings) {
    const key = [f.rule, locationOf(f.at).file, f.kind, f.namespace, f.name, f.container ?? ''].join('\u0000');
    const base = `f-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    f.id = n === 1 ? base : `${base}-${n}`;
  }
}

/**
 * Runs `gracekeeper audit <args...>` in-process: the same reading of files and directories, the same policy
 * (the defaults: no --config), the same engine call as src/cli/run.ts.
 */
export async function auditArgs(args: readonly string[]): Promise<AuditRecord> {
  const { inputs, errors } = await readInputs(args, NO_STDIN_IO);
  const report = audit(inputs, defaultPolicyConfig(), errors);
  const findings: FindingRecord[] = report.workloads.flatMap((w) =>
    w.findings.map((f) => ({
      id: '',
      rule: f.rule,
      action: f.action,
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      container: f.container ?? null,
      at: `${corpusRelative(f.file ?? '')}:${f.line}`,
      message: corpusRelative(f.message),
      fixable: f.fixable,
    })),
  );
  findings.sort(compareFindings);
  assignIds(findings);
  return {
    files: report.files,
    workloads: report.workloads.length,
    errors: report.errors.map((e) => corpusRelative(e.message)).sort(),
    findings,
  };
}

/** One document `gracekeeper mutate` changed, and the rules whose fixes it applied. */
export interface FixRecord {
  at: string;
  kind: string;
  name: string;
  rules: string[];
}

export interface MutateRecord {
  file: string;
  fixed: FixRecord[];
  errors: string[];
  /** What mutate prints (undefined when it printed nothing). */
  output: string | undefined;
  input: string;
}

/** Runs `gracekeeper mutate <file>` in-process, as src/cli/run.ts does. A throw here is a crash. */
export async function mutateFile(path: string): Promise<MutateRecord> {
  const { inputs, errors } = await readInputs([path], NO_STDIN_IO);
  const input = inputs[0];
  if (errors.length > 0 || !input) throw new Error(`cannot read ${path}: ${errors.map((e) => e.message).join('; ')}`);
  const result = mutate(input, defaultPolicyConfig());
  return {
    file: corpusRelative(path),
    fixed: result.fixed.map((f) => ({ at: corpusRelative(f.source), kind: f.kind, name: f.name, rules: [...f.rules].sort() })),
    errors: result.errors.map((e) => corpusRelative(e.message)),
    output: result.output,
    input: input.text,
  };
}

/** Path of a corpus file from its corpus-relative name. */
export const corpusPath = (name: string) => join(CORPUS_DIR, ...name.split('/'));

/** Relative name of an absolute corpus path. */
export const corpusName = (path: string) => relative(CORPUS_DIR, path).split(sep).join('/');
