import { ErrorCode, GracekeeperError } from '../errors.js';

export const COMMANDS = ['audit', 'mutate', 'rules'] as const;
export type Command = (typeof COMMANDS)[number];

const MAIN = `Usage: gracekeeper <command> [options]

Checks Kubernetes manifests for specs that break rolling updates, offline, with the rules of the
Gracekeeper admission webhook.

Commands:
  audit <file|dir|->...   report findings; exit 0 none denied, 1 denied, 2 usage or input error
  audit --cluster         the same for what a cluster runs (-n <namespace> or -A)
  mutate <file|->         print the manifests with every automatic fix applied to the pod templates
  rules                   list the rules, their default actions and what they check

Options:
  -h, --help              show help (also: gracekeeper <command> --help)
  -v, --version           print the version

Run 'gracekeeper <command> --help' for the options of a command.
`;

const CONFIG = `  -c, --config <file>     Gracekeeper config file; its 'policy:' section sets rule actions,
                          proxy patterns, timings, proxy strategy and kubernetesVersion`;

export const HELP: Record<Command | 'main', string> = {
  main: MAIN,
  audit: `Usage: gracekeeper audit [options] <file|dir|->...
       gracekeeper audit --cluster [-n <namespace> | -A] [--context <name>] [options]

Audits Pods and pod controllers (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
Job, CronJob) in multi-document YAML or JSON files, 'List' objects, directories (recursively: .yaml, .yml,
.json) and standard input ('-'). Services and PersistentVolumeClaims among all inputs are used to check
references between objects. With --cluster, audits what a cluster runs instead: workloads, Services, PVCs
and Nodes are listed from the API server (kubeconfig as kubectl finds it); a controller's Pods,
ReplicaSets and Jobs are reported once, through the controller.

  helm template . | gracekeeper audit -
  gracekeeper audit --output sarif k8s/ > gracekeeper.sarif
  gracekeeper audit --cluster -A --output html > report.html

Options:
  -o, --output <format>   text (default), json, sarif (SARIF 2.1.0) or html (one self-contained page)
${CONFIG}
      --cluster           audit the live cluster instead of files
      --kubeconfig <file> with --cluster: this kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)
      --context <name>    with --cluster: this kubeconfig context (default: the current one)
  -n, --namespace <ns>    with --cluster: this namespace (default: the context's, or default)
  -A, --all-namespaces    with --cluster: every namespace
  -h, --help              show this help

Exit status: 0 no deny findings, 1 deny findings, 2 usage or input error (other inputs are still audited),
or a cluster that cannot be listed (the error names the resource and verb refused).
`,
  mutate: `Usage: gracekeeper mutate [options] <file|->

Prints the manifests with every automatic fix applied to the pod templates of all workloads, keeping
comments, key order and the other documents, so the fix can be committed at the source. JSON input gives
JSON output. Fixes applied are listed on standard error.

  gracekeeper mutate deploy.yaml > deploy.fixed.yaml

Options:
${CONFIG}
  -h, --help              show this help

Exit status: 0 printed, 2 usage or input error.
`,
  rules: `Usage: gracekeeper rules [options]

Lists the rules: id, action (default, or as set by --config), whether a fix exists, and a summary.

Options:
  -o, --output <format>   text (default) or json
${CONFIG}
  -h, --help              show this help
`,
};

/** A mistake in how the CLI was called: reported with the help text of the command, exit 2. */
export class UsageError extends GracekeeperError {
  constructor(
    message: string,
    readonly command: Command | 'main',
  ) {
    super(ErrorCode.UsageInvalid, message);
    this.name = 'UsageError';
  }
}
