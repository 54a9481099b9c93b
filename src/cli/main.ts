#!/usr/bin/env node
import { text } from 'node:stream/consumers';
import { readEnvironment } from '../config/env.js';
import { run } from './run.js';

// tty.WriteStream.hasColors() is false when NO_COLOR, NODE_DISABLE_COLORS or TERM=dumb is set.
const colour = process.stdout.isTTY === true && process.stdout.hasColors();

// `gracekeeper audit . | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await run(process.argv.slice(2), {
  readStdin: () => text(process.stdin),
  stdout: process.stdout,
  stderr: process.stderr,
  colour,
  stderrIsTerminal: process.stderr.isTTY === true,
  env: readEnvironment(),
});
