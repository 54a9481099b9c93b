/**
 * Shutdown under load: steady traffic (keep-alive and new connections), then SIGTERM. Every request the server
 * accepted (it got a TLS session) must complete with the right answer; readiness must turn false at once; the
 * webhook must keep answering during server.shutdownDelaySeconds and exit within server.shutdownTimeoutSeconds.
 * Connections refused after the listener closed (or reset in the accept queue before a handshake) are counted
 * apart: the API server would send those to another replica. Traffic runs at full rate through the close, a
 * worse case than a cluster, where Endpoints stop sending during the delay.
 *
 *   npm run build && node --import @tapjs/typescript/import test/faults/shutdown.fault.ts
 */
import { sleep } from '../cluster/processes.js';
import { startWebhook } from '../cluster/webhook.js';
import { runFault } from './lib/fault.js';
import { Load, formatCounts } from './lib/load.js';
import { fixtureReview, learnExpected, reviewCase } from './lib/reviews.js';

const DELAY_S = Number(process.env.FAULT_SHUTDOWN_DELAY_S ?? 2);
const TIMEOUT_S = Number(process.env.FAULT_SHUTDOWN_TIMEOUT_S ?? 6);
const CONCURRENCY = Number(process.env.FAULT_CONCURRENCY ?? 8);
/** How soon after SIGTERM /readyz must answer 503: "at once", give or take the poll and a busy machine. */
const READY_FLIP_BOUND_MS = 500;

runFault('shutdown-under-load', 90_000, async (report) => {
  const webhook = await startWebhook({
    config: { server: { shutdownDelaySeconds: DELAY_S, shutdownTimeoutSeconds: TIMEOUT_S } },
  });
  try {
    const cases = [
      reviewCase('mutate pod', '/mutate', fixtureReview('pod-create-proxy')),
      reviewCase('validate deployment', '/validate', fixtureReview('deployment-create-proxy')),
    ];
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, cases);
    const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases, concurrency: CONCURRENCY, freshConnections: true });
    load.start();
    await sleep(2000);

    const proc = webhook.process!;
    const sigtermAt = Date.now();
    process.kill(proc.pid!, 'SIGTERM');

    let notReadyMs: number | undefined;
    while (notReadyMs === undefined && Date.now() - sigtermAt < 3000) {
      const status = await webhook.health('/readyz').then((r) => r.status, () => 0);
      if (status === 503) notReadyMs = Date.now() - sigtermAt;
      else await sleep(10);
    }
    const exit = await Promise.race([proc.exited, sleep((TIMEOUT_S + 10) * 1000).then(() => undefined)]);
    const exitMs = Date.now() - sigtermAt;
    await sleep(300);
    const all = await load.stop();
    const before = load.counts(0, sigtermAt);
    const duringDelay = load.counts(sigtermAt, sigtermAt + DELAY_S * 1000);
    // Requests started well inside the delay (not racing the listener's close at its end) must all be served.
    const insideDelay = load.counts(sigtermAt, sigtermAt + DELAY_S * 1000 - 250);
    const afterDelay = load.counts(sigtermAt + DELAY_S * 1000);

    report.figure('config', { shutdownDelaySeconds: DELAY_S, shutdownTimeoutSeconds: TIMEOUT_S, concurrency: CONCURRENCY });
    report.figure('before SIGTERM', formatCounts(before));
    report.figure('during the delay', formatCounts(duringDelay));
    report.figure('after the delay', formatCounts(afterDelay));
    report.figure('total', { accepted: all.accepted, completed: all.completed, failed: all.failed, refused: all.refused });
    report.figure('readiness false after ms', notReadyMs ?? null);
    report.figure('exit after ms', exitMs);
    report.figure('exit', exit ?? 'still running');
    if (all.failures.length > 0) report.figure('first failures', all.failures);

    report.check('load ran before SIGTERM', before.completed > 0, `${before.completed} answers`);
    report.check('readiness false at once', notReadyMs !== undefined && notReadyMs <= READY_FLIP_BOUND_MS, `503 after ${notReadyMs ?? 'never'} ms (bound ${READY_FLIP_BOUND_MS} ms)`);
    report.check('kept answering during the delay', insideDelay.completed > 0 && insideDelay.refused === 0, `${insideDelay.completed} answers, ${insideDelay.refused} refused (requests started up to 250 ms before the delay ends)`);
    report.check('no accepted request failed', all.failed === 0, `${all.failed} of ${all.accepted} accepted requests failed`);
    report.check('exited after the delay', exit !== undefined && exitMs >= DELAY_S * 1000, `exit after ${exitMs} ms (delay ${DELAY_S * 1000} ms)`);
    report.check('exited within the bound', exit !== undefined && exitMs <= TIMEOUT_S * 1000, `exit after ${exitMs} ms (bound ${TIMEOUT_S * 1000} ms)`);
    report.check('clean exit status', exit?.code === 0, `code ${exit?.code} signal ${exit?.signal}`);
  } finally {
    await webhook.stop();
  }
});
