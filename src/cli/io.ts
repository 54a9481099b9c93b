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
}
