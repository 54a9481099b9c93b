/**
 * Soak: a steady, paced load for FAULT_SOAK_SECONDS (default 600) against the built webhook; every answer is
 * checked. Reports the webhook's RSS when idle, after the warm-up (the baseline: heap and JIT have grown to
 * their working size by then) and at the end; RSS growth from the baseline must stay under 10% and no request
 * may fail. Not part of `npm run test:faults` (it takes 10 minutes); its figures go into bench/RESULTS.md.
 *
 *   npm run build && node --import @tapjs/typescript/import test/faults/soak.fault.ts
 *   FAULT_SOAK_SECONDS=60 FAULT_SOAK_RATE=100 ...   (a shorter run)
 */
import { sleep } from '../cluster/processes.js';
import { startWebhook } from '../cluster/webhook.js';
import { rssBytes, runFault } from './lib/fault.js';
import { Load, formatCounts } from './lib/load.js';
import { fixtureReview, learnExpected, reviewCase } from './lib/reviews.js';

const SECONDS = Number(process.env.FAULT_SOAK_SECONDS ?? 600);
const RATE = Number(process.env.FAULT_SOAK_RATE ?? 100);
const CONCURRENCY = Number(process.env.FAULT_CONCURRENCY ?? 4);
const WARMUP_S = Math.min(30, Math.max(5, Math.round(SECONDS / 10)));
const SAMPLE_EVERY_S = 10;
const GROWTH_BOUND = 0.1;

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

runFault('soak', (SECONDS + 120) * 1000, async (report) => {
  const webhook = await startWebhook();
  try {
    const pid = webhook.process!.pid!;
    const cases = [
      reviewCase('mutate pod', '/mutate', fixtureReview('pod-create-proxy')),
      reviewCase('validate deployment', '/validate', fixtureReview('deployment-create-proxy')),
      reviewCase('validate deployment update', '/validate', fixtureReview('deployment-update-replicas')),
      reviewCase('audit pod', '/validate/audit', fixtureReview('pod-create-proxy')),
    ];
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, cases);
    const idle = await rssBytes(pid);
    const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases, concurrency: CONCURRENCY, ratePerSecond: RATE, freshConnections: true });
    const startedAt = Date.now();
    load.start();
    await sleep(WARMUP_S * 1000);
    const baseline = await rssBytes(pid);
    const series: number[] = [mib(baseline)];
    while (Date.now() - startedAt < SECONDS * 1000) {
      await sleep(Math.min(SAMPLE_EVERY_S * 1000, SECONDS * 1000 - (Date.now() - startedAt)));
      if (!webhook.process?.running) break;
      series.push(mib(await rssBytes(pid)));
    }
    const end = await rssBytes(pid);
    const counts = await load.stop();
    const elapsed = (Date.now() - startedAt) / 1000;
    const growth = (end - baseline) / baseline;

    report.figure('duration s', Math.round(elapsed));
    report.figure('target rate req/s', RATE);
    report.figure('achieved rate req/s', Math.round((counts.accepted + counts.refused) / elapsed));
    report.figure('load', formatCounts(counts));
    report.figure('rss MiB', { idle: mib(idle), afterWarmup: mib(baseline), end: mib(end), growthPercent: Math.round(growth * 1000) / 10, max: Math.max(...series) });
    report.figure(`rss MiB every ${SAMPLE_EVERY_S} s`, series);
    if (counts.failures.length > 0) report.figure('first failures', counts.failures);

    report.check('ran for the whole duration', webhook.process?.running === true && elapsed >= SECONDS - 1, `${Math.round(elapsed)} s of ${SECONDS} s`);
    report.check('zero errors', counts.failed === 0 && counts.refused === 0 && counts.completed > 0, `${counts.failed} failed, ${counts.refused} refused of ${counts.accepted + counts.refused}`);
    report.check(`RSS growth under ${GROWTH_BOUND * 100}%`, growth < GROWTH_BOUND, `${mib(baseline)} MiB after warm-up -> ${mib(end)} MiB at the end (${(growth * 100).toFixed(1)}%)`);
  } finally {
    await webhook.stop();
  }
});
