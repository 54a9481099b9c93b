import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../src/tls/certificates.js';

export interface BenchCertificates {
  caPem: string;
  certFile: string;
  keyFile: string;
}

/** A CA and a serving certificate for 127.0.0.1, made for this run and shared by both servers. */
export async function makeCertificates(dir: string): Promise<BenchCertificates> {
  const ca = await createCertificateAuthority('Gracekeeper bench CA', 1);
  const serving = await issueCertificate(ca, { commonName: 'localhost', sans: ['localhost', '127.0.0.1'], days: 1 });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, serving.cert);
  writeFileSync(keyFile, serving.key, { mode: 0o600 });
  return { caPem: ca.cert, certFile, keyFile };
}
