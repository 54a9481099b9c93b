/**
 * Certificate rotation under load: while traffic runs (half of it on new connections, so there are handshakes
 * all the time), replace the serving certificate twice: once the way a careless copy does it (certificate
 * first, key a moment later, so the files disagree for a while) and once the way a Secret volume does it (both
 * files in place at once). New handshakes must present the new certificate within tls.reloadIntervalSeconds,
 * a mismatched pair must be refused without dropping the old one, and no request may fail.
 *
 *   npm run build && node --import @tapjs/typescript/import test/faults/cert-rotation.fault.ts
 */
import { X509Certificate } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sleep } from '../cluster/processes.js';
import { startWebhook } from '../cluster/webhook.js';
import { metricValue, runFault } from './lib/fault.js';
import { Load, formatCounts } from './lib/load.js';
import { fixtureReview, learnExpected, reviewCase } from './lib/reviews.js';

const RELOAD_S = Number(process.env.FAULT_RELOAD_INTERVAL_S ?? 1);
/** Scheduling slack on top of the reload interval on a shared 2-core machine. */
const SLACK_MS = 500;

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

runFault('certificate-rotation-under-load', 90_000, async (report) => {
  const webhook = await startWebhook({ config: { tls: { reloadIntervalSeconds: RELOAD_S } } });
  // startWebhook writes tls.crt and tls.key next to the config file.
  const dir = dirname(webhook.configPath);
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  try {
    const cases = [reviewCase('mutate pod', '/mutate', fixtureReview('pod-create-proxy'))];
    await learnExpected(webhook.baseUrl, webhook.ca.certPem, cases);
    const load = new Load({ baseUrl: webhook.baseUrl, ca: webhook.ca.certPem, cases, concurrency: 6, freshConnections: true });
    load.start();
    await sleep(1500);

    const rotations: Array<{ how: string; at: number; fingerprint: string }> = [];
    // 1: certificate first, key 300 ms later: for a moment the files do not belong together.
    const second = webhook.ca.issue({ commonName: 'gracekeeper-webhook', hosts: ['127.0.0.1', 'localhost'] });
    const at1 = Date.now();
    writeFileSync(certFile, second.certPem);
    await sleep(300);
    writeFileSync(keyFile, second.keyPem, { mode: 0o600 });
    rotations.push({ how: 'cert then key (300 ms apart)', at: at1, fingerprint: fingerprint(second.certPem) });
    await sleep(RELOAD_S * 1000 + 2000);

    // 2: both files swapped in by rename, as a Secret volume update does.
    const third = webhook.ca.issue({ commonName: 'gracekeeper-webhook', hosts: ['127.0.0.1', 'localhost'] });
    writeFileSync(`${certFile}.new`, third.certPem);
    writeFileSync(`${keyFile}.new`, third.keyPem, { mode: 0o600 });
    const at2 = Date.now();
    renameSync(`${keyFile}.new`, keyFile);
    renameSync(`${certFile}.new`, certFile);
    rotations.push({ how: 'both renamed into place', at: at2, fingerprint: fingerprint(third.certPem) });
    await sleep(RELOAD_S * 1000 + 2000);

    const counts = await load.stop();
    const metrics = (await webhook.health('/metrics')).body;
    report.figure('reload interval s', RELOAD_S);
    report.figure('load', formatCounts(counts));
    if (counts.failures.length > 0) report.figure('first failures', counts.failures);

    for (const r of rotations) {
      const firstNew = load.samples.find((s) => s.handshake && s.certificate === r.fingerprint);
      const oldAfter = load.samples.filter((s) => s.handshake && s.at > (firstNew?.at ?? Infinity) && s.certificate !== r.fingerprint && s.at < r.at + RELOAD_S * 1000 + 1500);
      const seenMs = firstNew ? firstNew.at - r.at : undefined;
      report.figure(`${r.how}: first new-certificate handshake after ms`, seenMs ?? null);
      report.check(
        `${r.how}: new handshakes get the new certificate within the reload interval`,
        seenMs !== undefined && seenMs <= RELOAD_S * 1000 + SLACK_MS && oldAfter.length === 0,
        `first after ${seenMs ?? 'never'} ms (bound ${RELOAD_S * 1000 + SLACK_MS} ms), ${oldAfter.length} old-certificate handshakes after it`,
      );
    }
    const successes = metricValue(metrics, 'gracekeeper_certificate_reloads_total', { result: 'success' }) ?? 0;
    const refusals = metricValue(metrics, 'gracekeeper_certificate_reloads_total', { result: 'failure' }) ?? 0;
    report.figure('certificate reloads', { success: successes, failure: refusals });
    report.check('both rotations reloaded', successes >= 2, `gracekeeper_certificate_reloads_total{result="success"} ${successes}`);
    report.check('no request failed', counts.failed === 0 && counts.refused === 0, `${counts.failed} failed, ${counts.refused} refused of ${counts.accepted + counts.refused}`);
    report.check('handshakes happened throughout', load.samples.filter((s) => s.handshake).length > 20, `${load.samples.filter((s) => s.handshake).length} handshakes`);
  } finally {
    await webhook.stop();
  }
});
