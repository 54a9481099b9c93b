import type { Environment } from '../config/env.js';

/** Where the CLI writes text. */
export interface TextSink {
  write(text: string): unknown;
}

/** Everything the CLI touches outside its arguments, so tests can drive it in-process. */
export interface CliIO {
  /** Reads all of standard input (for the `-` argument). */
  readStdin(): Promise<string>;
  stdout: TextSink;
  stderr: TextSink;
  /** Colour output: stdout is a terminal and NO_COLOR (or TERM=dumb) is not set. */
  colour: boolean;
  /** Standard error is a terminal: `audit --cluster` shows a progress line there. */
  stderrIsTerminal?: boolean;
  /** Directory SARIF file URIs are relative to; default the process's current directory. */
  cwd?: string;
  /** The environment (KUBECONFIG, KUBERNETES_SERVICE_HOST) for `audit --cluster`; default none. */
  env?: Environment;
}
