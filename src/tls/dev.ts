import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, loadCertificateAuthority } from './certificates.js';

export const DEV_CERT_DIR = '.gracekeeper/dev-certs';
export const DEV_SANS = ['localhost', '127.0.0.1'] as const;

export interface DevCertificatePaths {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** What was (re)made this time: nothing when the files on disk were still good. */
  created: Array<'ca' | 'serving'>;
}

const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/**
 * The certificate and key are readable and belong together, the certificate is valid for another week and,
 * when given, issued by `ca` for every SAN.
 */
function stillGood(certPem: string | undefined, keyPem: string | undefined, ca?: X509Certificate, sans: readonly string[] = []): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    const publicKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    if (!publicKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    if (ca && !(cert.checkIssued(ca) && cert.verify(ca.publicKey))) return false;
    return sans.every((san) => (isIP(san) ? cert.checkIP(san) : cert.checkHost(san)) !== undefined);
  } catch {
    return false;
  }
}

/**
 * Makes sure `dir` holds a development CA (ca.crt, ca.key) and a serving certificate for localhost and
 * 127.0.0.1 signed by it (tls.crt, tls.key). Files still valid are kept, so a CA a developer already trusts
 * keeps working across restarts; anything missing, expiring or mismatched is made anew. Keys are written 0600.
 */
export async function ensureDevCertificates(dir: string = DEV_CERT_DIR): Promise<DevCertificatePaths> {
  const paths = { dir, caFile: join(dir, 'ca.crt'), caKeyFile: join(dir, 'ca.key'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: DevCertificatePaths['created'] = [];

  const caPem = readIfExists(paths.caFile);
  const caKeyPem = readIfExists(paths.caKeyFile);
  let ca = caPem && caKeyPem && stillGood(caPem, caKeyPem) ? await loadCertificateAuthority(caPem, caKeyPem).catch(() => undefined) : undefined;
  if (!ca) {
    ca = await createCertificateAuthority('Gracekeeper development CA', 3650);
    writeFileSync(paths.caKeyFile, ca.key, { mode: 0o600 });
    writeFileSync(paths.caFile, ca.cert);
    created.push('ca');
  }

  const caCert = new X509Certificate(ca.cert);
  if (created.length > 0 || !stillGood(readIfExists(paths.certFile), readIfExists(paths.keyFile), caCert, DEV_SANS)) {
    const serving = await issueCertificate(ca, { commonName: 'localhost', sans: DEV_SANS, usage: 'server', days: 365 });
    writeFileSync(paths.keyFile, serving.key, { mode: 0o600 });
    writeFileSync(paths.certFile, serving.cert);
    created.push('serving');
  }
  return { dir, caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile, created };
}
