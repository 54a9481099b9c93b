import { GracekeeperError } from '../errors.js';
import { RULES } from '../rules/index.js';
import type { PolicyConfig } from '../config/policy.js';
import { OUTPUT_FORMATS, parseCommandArgs, type CommandArgs, type CommandOption, type OutputFormat } from './args.js';
import { audit, type AuditReport } from './audit.js';
import { palette } from './colour.js';
import { formatAuditHtml } from './format-html.js';
import { formatAuditJson } from './format-json.js';
import { formatAuditSarif } from './format-sarif.js';
import { formatAuditText } from './format-text.js';
import { readInputs } from './inputs.js';
import type { CliIO } from './io.js';
import { mutate } from './mutate.js';
import { loadPolicy } from './policy.js';
import { formatRules } from './rules-list.js';
import { auditExitCode, EXIT_ERROR, EXIT_OK, summarise } from './summary.js';
import { COMMANDS, HELP, UsageError, type Command } from './usage.js';
import { packageVersion } from './version.js';

function reportErrors(io: CliIO, errors: readonly GracekeeperError[]): void {
  for (const e of errors) io.stderr.write(`error: ${e.message}\n`);
}

/** The report in the format asked for; every format comes from the same report, so exit codes agree. */
function formatAudit(report: AuditReport, output: OutputFormat, config: PolicyConfig, io: CliIO): string {
  switch (output) {
    case 'json':
      return formatAuditJson(report);
    case 'sarif':
      return formatAuditSarif(report, { rules: RULES, config, version: packageVersion(), cwd: io.cwd ?? process.cwd() });
    case 'html':
      return formatAuditHtml(report, { rules: RULES, config, version: packageVersion() });
    default:
      return formatAuditText(report, palette(io.colour));
  }
}

async function auditCommand(args: CommandArgs, io: CliIO): Promise<number> {
  if (args.cluster) {
    if (args.positionals.length > 0) throw new UsageError(`audit --cluster takes no files (got '${args.positionals[0]}')`, 'audit');
    const config = loadPolicy(args.config);
    const { auditCluster } = await import('./cluster-audit.js');
    const report = await auditCluster(args.cluster, config, io);
    reportErrors(io, report.errors);
    io.stdout.write(formatAudit(report, args.output, config, io));
    return auditExitCode(summarise(report));
  }
  if (args.positionals.length === 0) throw new UsageError('audit needs at least one file, directory or - (stdin), or --cluster', 'audit');
  if (args.positionals.filter((p) => p === '-').length > 1) throw new UsageError("'-' (stdin) may be given once", 'audit');
  const config = loadPolicy(args.config);
  const { inputs, errors } = await readInputs(args.positionals, io);
  const report = audit(inputs, config, errors);
  reportErrors(io, report.errors);
  io.stdout.write(formatAudit(report, args.output, config, io));
  return auditExitCode(summarise(report));
}

async function mutateCommand(args: CommandArgs, io: CliIO): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError('mutate takes exactly one file, or - (stdin)', 'mutate');
  const config = loadPolicy(args.config);
  const { inputs, errors } = await readInputs(args.positionals, io);
  const input = inputs[0];
  if (errors.length > 0 || !input || inputs.length > 1) {
    reportErrors(io, errors);
    if (errors.length === 0) io.stderr.write('error: mutate takes one file, not a directory\n');
    return EXIT_ERROR;
  }
  const result = mutate(input, config);
  for (const f of result.fixed) io.stderr.write(`fixed ${f.kind} ${f.name} (${f.source}): ${f.rules.join(', ')}\n`);
  reportErrors(io, result.errors);
  if (result.output !== undefined) io.stdout.write(result.output);
  return result.errors.length > 0 ? EXIT_ERROR : EXIT_OK;
}

async function rulesCommand(args: CommandArgs, io: CliIO): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`rules takes no arguments (got '${args.positionals[0]}')`, 'rules');
  io.stdout.write(formatRules(RULES, loadPolicy(args.config), args.output, palette(io.colour)));
  return EXIT_OK;
}

const COMMAND_RUNNERS: Record<
  Command,
  { options: CommandOption[]; outputs?: OutputFormat[]; run: (args: CommandArgs, io: CliIO) => Promise<number> }
> = {
  audit: {
    options: ['output', 'config', 'cluster', 'kubeconfig', 'context', 'namespace', 'all-namespaces'],
    outputs: [...OUTPUT_FORMATS],
    run: auditCommand,
  },
  mutate: { options: ['config'], run: mutateCommand },
  rules: { options: ['output', 'config'], run: rulesCommand },
};

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('a command is required', 'main');
  if (first === '-h' || first === '--help' || first === 'help') {
    const topic = rest[0] as Command | undefined;
    io.stdout.write(HELP[topic && COMMANDS.includes(topic) ? topic : 'main']);
    return EXIT_OK;
  }
  if (first === '-v' || first === '--version') {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`, 'main');
  }
  const command = first as Command;
  const runner = COMMAND_RUNNERS[command];
  const args = parseCommandArgs(command, rest, runner.options, runner.outputs);
  if (args.help) {
    io.stdout.write(HELP[command]);
    return EXIT_OK;
  }
  return runner.run(args, io);
}

/**
 * The whole CLI as a function: arguments (without `node` and the script) in, exit code out. Usage mistakes print
 * the command's help; a config error is one line naming the field. Nothing here exits the process.
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`error: ${e.message}\n\n${HELP[e.command]}`);
      return EXIT_ERROR;
    }
    if (e instanceof GracekeeperError) {
      io.stderr.write(`error: ${e.message}\n`);
      return EXIT_ERROR;
    }
    // A bug, not bad input: keep the stack for the report, and never exit 1, which means "denied".
    io.stderr.write(`error: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT_ERROR;
  }
}
