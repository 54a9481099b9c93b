import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type Command } from './usage.js';

export const OUTPUT_FORMATS = ['text', 'json', 'sarif', 'html'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  config: { type: 'string', short: 'c' },
  cluster: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type CommandOption = Exclude<keyof typeof OPTIONS, 'help'>;

/** `audit --cluster` and the options that only make sense with it. */
export interface ClusterArgs {
  kubeconfig: string | undefined;
  context: string | undefined;
  /** -n; undefined: the context's namespace (or default), unless allNamespaces. */
  namespace: string | undefined;
  allNamespaces: boolean;
}

export interface CommandArgs {
  positionals: string[];
  output: OutputFormat;
  config: string | undefined;
  /** Set with --cluster. */
  cluster: ClusterArgs | undefined;
  help: boolean;
}

const CLUSTER_ONLY = ['kubeconfig', 'context', 'namespace', 'all-namespaces'] as const;

/**
 * Parses the arguments after the command name; `allowed` are the options the command takes besides --help,
 * `outputs` the formats its --output takes.
 */
export function parseCommandArgs(
  command: Command,
  args: string[],
  allowed: readonly CommandOption[],
  outputs: readonly OutputFormat[] = ['text', 'json'],
): CommandArgs {
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
  const values = parsed.values as Partial<Record<CommandOption, string | boolean>> & { help?: boolean };
  const output = (values.output as string | undefined) ?? 'text';
  if (!(outputs as readonly string[]).includes(output)) {
    throw new UsageError(`--output must be one of ${outputs.join(', ')} (got '${output}')`, command);
  }
  let cluster: ClusterArgs | undefined;
  if (values.cluster === true) {
    if (values.namespace !== undefined && values['all-namespaces'] === true) {
      throw new UsageError('-n/--namespace and -A/--all-namespaces cannot be used together', command);
    }
    if (values.namespace === '') throw new UsageError('-n/--namespace needs a namespace name', command);
    cluster = {
      kubeconfig: values.kubeconfig as string | undefined,
      context: values.context as string | undefined,
      namespace: values.namespace as string | undefined,
      allNamespaces: values['all-namespaces'] === true,
    };
  } else {
    const stray = CLUSTER_ONLY.find((name) => values[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --cluster`, command);
  }
  return {
    positionals: parsed.positionals,
    output: output as OutputFormat,
    config: values.config as string | undefined,
    cluster,
    help: values.help ?? false,
  };
}
