// @peculiar/x509 resolves its algorithm registry through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/**
 * Certificates made in-process with WebCrypto: no openssl binary (the runtime image has none). Used for the
 * development certificate of `npm start`, by tests and by the e2e harness ("a CA and a serving cert for these
 * SANs"). ECDSA P-256 keys: fast to generate, accepted by the Kubernetes API server and every TLS client.
 */
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate and its private key, PEM encoded (key as PKCS#8). */
export interface PemPair {
  cert: string;
  key: string;
}

export interface CertificateAuthority extends PemPair {
  /** The CA's signing key, to issue more certificates. */
  signingKey: CryptoKey;
  certificate: x509.X509Certificate;
}

export type CertificateUsage = 'server' | 'client';

export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses; IPs are recognised and encoded as IP SANs. */
  sans?: readonly string[];
  usage?: CertificateUsage;
  days?: number;
}

/** Backdated a little so a clock slightly behind ours still accepts the certificate. */
function validity(days: number) {
  const now = Date.now();
  return { notBefore: new Date(now - 5 * 60 * 1000), notAfter: new Date(now + days * DAY_MS) };
}

function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Distinguished name value: commas, quotes and the like would change the name's structure. */
function cn(name: string): string {
  return `CN=${name.replace(/[,+"\\<>;=]/g, ' ')}`;
}

export async function createCertificateAuthority(commonName = 'Gracekeeper CA', days = 365): Promise<CertificateAuthority> {
  const keys = await keyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: cn(commonName),
    ...validity(days),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: certificate.toString('pem'), key: await privateKeyPem(keys.privateKey), signingKey: keys.privateKey, certificate };
}

/** A CA from PEM files made earlier (by this module or openssl with an EC P-256 key). */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const signingKey = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), ALGORITHM, true, ['sign']);
  return { cert: certPem, key: keyPem, signingKey, certificate };
}

export async function issueCertificate(ca: CertificateAuthority, options: IssueOptions): Promise<PemPair> {
  const { commonName, sans = [], usage = 'server', days = 90 } = options;
  const keys = await keyPair();
  const names = sans.map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value }) as x509.JsonGeneralName);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: cn(commonName),
    issuer: ca.certificate.subject,
    ...validity(days),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    extensions,
  });
  return { cert: certificate.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}
