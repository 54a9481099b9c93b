/**
 * The hostile-input catalogue (test/reliability/lib/catalogue.ts) against the built webhook over real TLS,
 * timed: each case is sent once to warm up and then RUNS times on a keep-alive connection. The median time
 * of every case must stay under 100 ms, no case may get a 5xx, the process must survive them all, and a
 * normal review right after each must get the same answer as before. `npm test` checks the statuses and
 * messages; this script owns the timing.
 *
 *   npm run build && node --import @tapjs/typescript/import test/faults/hostile.fault.ts
 */
import { Agent } from 'node:https';
import { startWebhook } from '../cluster/webhook.js';
import { catalogue, edited } from '../reliability/lib/catalogue.js';
import { sendRaw } from '../reliability/lib/tls.js';
import { runFault } from './lib/fault.js';
import { checkAnswer, learnExpected, reviewCase } from './lib/reviews.js';

const RUNS = Number(process.env.FAULT_HOSTILE_RUNS ?? 5);
const BOUND_MS = 100;

runFault('hostile-input-timing', 300_000, async (report) => {
  const webhook = await startWebhook();
  try {
    const ca = webhook.ca.certPem;
    const normal = reviewCase('normal review', '/mutate', JSON.parse(edited(() => {})) as Record<string, unknown>);
    await learnExpected(webhook.baseUrl, ca, [normal]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const rows: Array<{ name: string; status: number; medianMs: number; maxMs: number }> = [];
    let wrongAfter = 0;
    let serverErrors = 0;
    const clientErrors: string[] = [];
    for (const c of catalogue()) {
      const times: number[] = [];
      let status = 0;
      for (let i = 0; i <= RUNS; i++) {
        const started = performance.now();
        try {
          const answer = await sendRaw(webhook.baseUrl, ca, c.url ?? '/validate', c.body, { contentType: c.contentType, agent });
          status = answer.status;
        } catch (e) {
          // The server may answer 413 and close before the client has written the whole oversized body.
          status = c.expect.status === 413 && /EPIPE|ECONNRESET/.test((e as Error).message) ? 413 : -1;
          if (status === -1) clientErrors.push(`${c.name}: ${(e as Error).message}`);
        }
        if (i > 0) times.push(performance.now() - started);
        if (status >= 500) serverErrors++;
      }
      const after = await sendRaw(webhook.baseUrl, ca, '/mutate', normal.body('after'), { agent });
      if (after.status !== 200 || checkAnswer(normal, 'after', after.text)) wrongAfter++;
      times.sort((a, b) => a - b);
      rows.push({ name: c.name, status, medianMs: times[times.length >> 1]!, maxMs: times.at(-1)! });
    }
    agent.destroy();
    rows.sort((a, b) => b.medianMs - a.medianMs);
    const slow = rows.filter((r) => r.medianMs >= BOUND_MS);
    report.figure('cases', rows.length);
    report.figure('slowest (median ms / max ms / status)', rows.slice(0, 8).map((r) => `${r.name}: ${r.medianMs.toFixed(1)} / ${r.maxMs.toFixed(1)} / ${r.status}`));
    report.figure('median of medians ms', rows[rows.length >> 1]!.medianMs.toFixed(2));
    report.check('no 5xx', serverErrors === 0, `${serverErrors} answers with a 5xx`);
    report.check('every request answered', clientErrors.length === 0, clientErrors.length === 0 ? 'all answered' : clientErrors.slice(0, 3).join('; '));
    report.check('the process survived every case', webhook.process?.running === true, webhook.process?.running ? 'running' : webhook.process!.describeExit());
    report.check('a normal review right after each case is answered as before', wrongAfter === 0, `${wrongAfter} wrong`);
    report.check(`every case answered within ${BOUND_MS} ms (median of ${RUNS})`, slow.length === 0, slow.length === 0 ? 'all under the bound' : slow.map((r) => `${r.name}: ${r.medianMs.toFixed(1)} ms`).join('; '));
  } finally {
    await webhook.stop();
  }
});
