/**
 * The floor the webhook is compared with: a bare node:https server that reads the body, JSON.parses it and
 * answers a minimal allowed AdmissionReview. No framework, no logging, no validation.
 * Usage: node baseline-server.js <port> <certFile> <keyFile>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const [port, certFile, keyFile] = process.argv.slice(2);
if (!port || !certFile || !keyFile) {
  process.stderr.write('usage: baseline-server <port> <certFile> <keyFile>\n');
  process.exit(2);
}

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let uid = '';
    try {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: string } };
      uid = review.request?.uid ?? '';
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('not JSON');
      return;
    }
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
