import { benchCli } from './cli.js';

benchCli(process.argv.slice(2)).then(
  (out) => {
    if (out) process.stdout.write(`${out.markdown}\nWritten to ${out.markdownFile} and ${out.jsonFile}\n`);
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
