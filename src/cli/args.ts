import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type Command } from './usage.js';

export const OUTPUT_FORMATS = ['text', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface CommandArgs {
  positionals: string[];
  output: OutputFormat;
  config: string | undefined;
  help: boolean;
}

/** Parses the arguments after the command name; `allowed` are the options the command takes besides --help. */
export function parseCommandArgs(command: Command, args: string[], allowed: ReadonlyArray<'output' | 'config'>): CommandArgs {
  const options = Object.fromEntries(
    Object.entries(OPTIONS).filter(([name]) => name === 'help' || (allowed as readonly string[]).includes(name)),
  );
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // node's messages go on to explain `--`; the first sentence names the problem.
    throw new UsageError((e as Error).message.split('. ')[0]!.replace(/\.$/, ''), command);
  }
  const values = parsed.values as { output?: string; config?: string; help?: boolean };
  const output = values.output ?? 'text';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) {
    throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')} (got '${output}')`, command);
  }
  return { positionals: parsed.positionals, output: output as OutputFormat, config: values.config, help: values.help ?? false };
}
