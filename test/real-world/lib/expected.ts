import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import {
  auditArgs,
  corpusName,
  EXPECTED_FINDINGS,
  EXPECTED_FIXES,
  listSources,
  manifestFiles,
  mutateFile,
  type AuditRecord,
  type FindingRecord,
  type FixRecord,
} from './corpus.js';

export interface SourceFindings extends AuditRecord {
  source: string;
}

export interface FileFixes {
  file: string;
  errors: string[];
  fixed: FixRecord[];
}

export interface SourceFixes {
  source: string;
  /** Only files that mutate changes or reports errors on. */
  files: FileFixes[];
}

const HEADER = (what: string) =>
  `# ${what} on the real-world corpus (test/fixtures/real-world), by source folder.\n` +
  '# Generated: `npm run corpus:update` rewrites this file; test/real-world/corpus.test.ts fails when results differ.\n' +
  '# Review every change in the diff (REVIEW.md records the verdict per finding id).\n';

/** `gracekeeper audit <source folder>` for every source folder. */
export async function currentFindings(): Promise<SourceFindings[]> {
  const out: SourceFindings[] = [];
  for (const s of listSources()) out.push({ source: s.name, ...(await auditArgs([s.dir])) });
  return out;
}

/** `gracekeeper mutate <file>` on every file of every source folder; keeps the files it changes or errors on. */
export async function currentFixes(): Promise<SourceFixes[]> {
  const out: SourceFixes[] = [];
  for (const s of listSources()) {
    const files: FileFixes[] = [];
    for (const path of await manifestFiles(s.dir)) {
      const r = await mutateFile(path);
      if (r.fixed.length > 0 || r.errors.length > 0) files.push({ file: r.file, errors: r.errors, fixed: r.fixed });
    }
    out.push({ source: s.name, files });
  }
  return out;
}

const yamlText = (value: unknown) => stringify(value, { lineWidth: 0, indentSeq: true });

export function findingsText(sources: readonly SourceFindings[]): string {
  return HEADER('What `gracekeeper audit <folder>` reports') + yamlText({ sources });
}

export function fixesText(sources: readonly SourceFixes[]): string {
  return HEADER('What `gracekeeper mutate <file>` changes (per document, the rules whose fixes it applied)') + yamlText({ sources });
}

export function readExpectedFindings(): SourceFindings[] {
  return (parse(readFileSync(EXPECTED_FINDINGS, 'utf8')) as { sources: SourceFindings[] }).sources;
}

export function readExpectedFixes(): SourceFixes[] {
  return (parse(readFileSync(EXPECTED_FIXES, 'utf8')) as { sources: SourceFixes[] }).sources;
}

/** One line per finding, for a diff a person can read: what, where, on which workload, and the message. */
export function findingLine(f: FindingRecord): string {
  const container = f.container === null ? '' : ` [${f.container}]`;
  const ns = f.namespace === '' ? '' : `${f.namespace}/`;
  return `${f.at} ${f.action} ${f.rule}${f.fixable ? ' (fixable)' : ''} ${f.kind} ${ns}${f.name}${container} ${f.id}: ${f.message}`;
}

/** The lines of one source's record, as the test compares them (counts, errors, findings). */
export function sourceFindingLines(s: SourceFindings): string[] {
  return [
    `files: ${s.files}, workloads: ${s.workloads}`,
    ...s.errors.map((e) => `error: ${e}`),
    ...s.findings.map(findingLine),
  ];
}

export function sourceFixLines(s: SourceFixes): string[] {
  return s.files.flatMap((f) => [
    ...f.errors.map((e) => `${f.file} error: ${e}`),
    ...f.fixed.map((x) => `${x.at} ${x.kind} ${x.name}: ${x.rules.join(', ')}`),
  ]);
}

export { corpusName };
