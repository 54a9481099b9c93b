import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import t from 'tap';
import { createCertificateAuthority, issueCertificate, type PemPair } from '../../src/tls/certificates.js';
import { ensureDevCertificates } from '../../src/tls/dev.js';
import { certificateReloader, httpsOptions, readTlsMaterial } from '../../src/tls/reload.js';
import { loadReview, testServer } from '../helpers/server.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gracekeeper-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writePair(dir: string, pair: PemPair, name = 'tls') {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key);
  return { certFile, keyFile };
}

interface Reply {
  status: number;
  body: string;
  peer: PeerCertificate;
  authorized: boolean;
}

/** One request on a fresh TLS connection (no agent: every call is a new handshake). */
function send(port: number, options: { ca: string; path?: string; body?: string; cert?: string; key?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        path: options.path ?? '/healthz',
        method: options.body ? 'POST' : 'GET',
        ca: options.ca,
        agent: false,
        headers: options.body ? { 'content-type': 'application/json' } : {},
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          const socket = res.socket as import('node:tls').TLSSocket;
          resolve({ status: res.statusCode ?? 0, body, peer: socket.getPeerCertificate(), authorized: socket.authorized });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function listening(t: { teardown(fn: () => Promise<unknown>): void }, https: ReturnType<typeof httpsOptions>) {
  const server = testServer({ https });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => server.app.close());
  const address = server.app.server.address();
  return { ...server, port: typeof address === 'object' && address ? address.port : 0 };
}

t.test('certificates: a CA and a serving certificate for the SANs, chained', async (t) => {
  const ca = await createCertificateAuthority('Test CA');
  const serving = await issueCertificate(ca, { commonName: 'gracekeeper.gracekeeper.svc', sans: ['gracekeeper.gracekeeper.svc', 'localhost', '127.0.0.1'] });
  const caCert = new X509Certificate(ca.cert);
  const cert = new X509Certificate(serving.cert);
  t.ok(caCert.ca, 'the CA is a CA');
  t.notOk(cert.ca, 'the serving certificate is not');
  t.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey), 'signed by the CA');
  t.equal(cert.checkHost('gracekeeper.gracekeeper.svc'), 'gracekeeper.gracekeeper.svc');
  t.equal(cert.checkHost('localhost'), 'localhost');
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(cert.checkHost('example.com'), undefined, 'no other name');
  t.match(cert.keyUsage ?? [], ['1.3.6.1.5.5.7.3.1'], 'serverAuth');
});

t.test('a real TLS socket: the chain verifies, the webhook answers, TLS 1.1 is refused', async (t) => {
  const ca = await createCertificateAuthority();
  const serving = await issueCertificate(ca, { commonName: 'localhost', sans: ['localhost', '127.0.0.1'] });
  const { port } = await listening(t, httpsOptions({ cert: Buffer.from(serving.cert), key: Buffer.from(serving.key) }));

  const health = await send(port, { ca: ca.cert });
  t.equal(health.status, 200);
  t.ok(health.authorized, 'the client verified the chain against the CA');
  const review = loadReview('pod-create-proxy.json');
  const answer = await send(port, { ca: ca.cert, path: '/mutate', body: JSON.stringify(review) });
  t.equal(answer.status, 200);
  t.equal(JSON.parse(answer.body).response.uid, review.request.uid);

  const other = await createCertificateAuthority('Someone else');
  await t.rejects(send(port, { ca: other.cert }), /self-signed|unable to verify|certificate/, 'a client trusting another CA refuses the server');

  for (const [version, ok] of [['TLSv1.1', false], ['TLSv1.2', true], ['TLSv1.3', true]] as const) {
    const result = await new Promise<string>((resolve) => {
      // SECLEVEL=0 lets the client offer TLS 1.1 at all, so the refusal is the server's.
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, minVersion: 'TLSv1', maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        resolve(socket.getProtocol() ?? 'none');
        socket.end();
      });
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    if (ok) t.equal(result, version, `${version} accepted`);
    else t.equal(result, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', `${version} refused by the server`);
  }
});

t.test('client certificate verification (--client-ca)', async (t) => {
  const serverCa = await createCertificateAuthority('Server CA');
  const clientCa = await createCertificateAuthority('API server client CA');
  const serving = await issueCertificate(serverCa, { commonName: 'localhost', sans: ['localhost', '127.0.0.1'] });
  const apiserver = await issueCertificate(clientCa, { commonName: 'kube-apiserver', usage: 'client' });
  const stranger = await issueCertificate(serverCa, { commonName: 'stranger', usage: 'client' });
  const { port } = await listening(t, httpsOptions({ cert: Buffer.from(serving.cert), key: Buffer.from(serving.key), ca: Buffer.from(clientCa.cert) }));
  const body = JSON.stringify(loadReview('pod-create-proxy.json'));

  const ok = await send(port, { ca: serverCa.cert, path: '/validate', body, cert: apiserver.cert, key: apiserver.key });
  t.equal(ok.status, 200, 'a client certificate from the client CA is accepted');
  await t.rejects(send(port, { ca: serverCa.cert, path: '/validate', body }), 'no client certificate: refused');
  await t.rejects(send(port, { ca: serverCa.cert, path: '/validate', body, cert: stranger.cert, key: stranger.key }), 'a certificate from another CA: refused');
});

t.test('certificate rotation: new handshakes get new bytes; a broken file keeps the last good certificate', async (t) => {
  const dir = tempDir(t);
  const ca = await createCertificateAuthority();
  const first = await issueCertificate(ca, { commonName: 'first', sans: ['localhost', '127.0.0.1'] });
  const files = writePair(dir, first);
  const material = readTlsMaterial(files);
  const server = await listening(t, httpsOptions(material));
  const results: string[] = [];
  const reloader = certificateReloader({
    files,
    intervalMs: 60_000,
    initial: material,
    apply: (options) => (server.app.server as HttpsServer).setSecureContext(options),
    onReload: (result) => results.push(result),
  });
  const serial = async () => (await send(server.port, { ca: ca.cert })).peer.serialNumber;
  const firstSerial = await serial();
  t.equal(firstSerial, new X509Certificate(first.cert).serialNumber.toUpperCase());

  t.equal(reloader.check(), false, 'unchanged files: nothing to do');
  t.same(results, []);

  const second = await issueCertificate(ca, { commonName: 'second', sans: ['localhost', '127.0.0.1'] });
  writePair(dir, second);
  t.equal(reloader.check(), true);
  t.same(results, ['success']);
  t.equal(await serial(), new X509Certificate(second.cert).serialNumber.toUpperCase(), 'the new certificate is served');

  const third = await issueCertificate(ca, { commonName: 'third', sans: ['localhost'] });
  writeFileSync(files.certFile, third.cert); // key not yet replaced: they do not match
  reloader.check();
  writeFileSync(files.keyFile, 'not a key');
  reloader.check();
  rmSync(files.certFile);
  reloader.check();
  t.same(results, ['success', 'failure', 'failure', 'failure'], 'each bad state refused once');
  t.equal(await serial(), new X509Certificate(second.cert).serialNumber.toUpperCase(), 'the last good certificate is still served');
  t.equal((await send(server.port, { ca: ca.cert, path: '/mutate', body: JSON.stringify(loadReview('pod-create-proxy.json')) })).status, 200);

  writePair(dir, third);
  reloader.check();
  t.equal(results.at(-1), 'success', 'recovers when the files are good again');
});

t.test('readTlsMaterial names the field and the file', async (t) => {
  const dir = tempDir(t);
  t.throws(() => readTlsMaterial({ certFile: join(dir, 'nope.crt'), keyFile: join(dir, 'nope.key') }), { message: /^tls\.certFile: .*nope\.crt: no such file$/ });
  const ca = await createCertificateAuthority();
  const a = writePair(dir, await issueCertificate(ca, { commonName: 'a' }), 'a');
  const b = writePair(dir, await issueCertificate(ca, { commonName: 'b' }), 'b');
  t.throws(() => readTlsMaterial({ certFile: a.certFile, keyFile: b.keyFile }), { code: 'TLS_UNREADABLE', message: /not a usable certificate and key/ });
});

t.test('development certificates: made once, reused, remade when broken', async (t) => {
  const dir = join(tempDir(t), 'dev-certs');
  const made = await ensureDevCertificates(dir);
  t.same(made.created, ['ca', 'serving']);
  const cert = new X509Certificate(readFileSync(made.certFile));
  const ca = new X509Certificate(readFileSync(made.caFile));
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'serving certificate signed by the dev CA');
  t.equal(cert.checkHost('localhost'), 'localhost');
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(statSync(made.keyFile).mode & 0o777, 0o600, 'key readable by the owner only');
  t.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);

  const again = await ensureDevCertificates(dir);
  t.same(again.created, [], 'still valid: reused, so a trusted CA stays trusted');
  t.equal(readFileSync(again.certFile, 'utf8'), readFileSync(made.certFile, 'utf8'));

  const otherKey = await issueCertificate(await createCertificateAuthority(), { commonName: 'x' });
  writeFileSync(made.keyFile, otherKey.key);
  const repaired = await ensureDevCertificates(dir);
  t.same(repaired.created, ['serving'], 'a key that does not match: the serving certificate is remade with the same CA');
  t.equal(readFileSync(repaired.caFile, 'utf8'), readFileSync(made.caFile, 'utf8'));
  t.doesNotThrow(() => readTlsMaterial(repaired));
});
