import { auditArgs, manifestFiles, type Source } from './corpus.js';
import { findingLine } from './expected.js';

/** A seeded permutation (mulberry32), so a failure is reproducible. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const SHUFFLE_SEED = 20261129;

/** `gracekeeper audit <files...>` as sorted lines (findings and errors): equal lines means the same result. */
export async function auditLines(files: readonly string[]): Promise<string> {
  const r = await auditArgs(files);
  return [...r.findings.map(findingLine), ...r.errors.map((e) => `error: ${e}`)].sort().join('\n');
}

/** The source's files in name order (as `audit <folder>` reads them), reversed, and shuffled with a fixed seed. */
export async function orders(source: Source): Promise<Array<{ name: string; files: string[] }>> {
  const files = await manifestFiles(source.dir);
  return [
    { name: 'name order', files },
    { name: 'reversed', files: [...files].reverse() },
    { name: `shuffled (seed ${SHUFFLE_SEED})`, files: shuffled(files, SHUFFLE_SEED) },
  ];
}

/** The orders whose findings differ from name order's, each with the lines only one side has. */
export async function orderDifferences(source: Source): Promise<Array<{ order: string; onlyForward: string[]; onlyThis: string[] }>> {
  const [forward, ...others] = await orders(source);
  const base = (await auditLines(forward!.files)).split('\n');
  const out = [];
  for (const o of others) {
    const lines = (await auditLines(o.files)).split('\n');
    const onlyForward = base.filter((l) => !lines.includes(l));
    const onlyThis = lines.filter((l) => !base.includes(l));
    if (onlyForward.length > 0 || onlyThis.length > 0) out.push({ order: o.name, onlyForward, onlyThis });
  }
  return out;
}
