/**
 * Test-time PKI: a CA and leaf certificates made with node:crypto, so no key or
 * certificate is ever committed and no external tool (openssl, cfssl) is needed.
 *
 * node:crypto can make keys and sign bytes but cannot build an X.509
 * certificate, so this file holds a minimal DER encoder for exactly the fields
 * Go's crypto/x509 (kube-apiserver) and Node's TLS need: v3, ECDSA P-256 with
 * SHA-256, basicConstraints, keyUsage, extKeyUsage, subjectAltName and key ids.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  /** Issue a leaf certificate signed by this CA. */
  issue(opts: LeafOptions): KeyPairPem;
}

export interface LeafOptions {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName. */
  hosts?: string[];
  /** Organisations (O=) in the subject, e.g. system:masters for a client cert. */
  organizations?: string[];
  usage?: 'server' | 'client' | 'both';
  validDays?: number;
}

// ---- DER ------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(value.length), value]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
const bitString = (b: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out: number[] = [a * 40 + b];
  for (const p of rest) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`)) : tlv(0x18, Buffer.from(`${y}${body}`));
}

function name(cn: string, organizations: string[] = []): Buffer {
  const rdn = (type: string, value: string): Buffer => set(seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return seq(...organizations.map((o) => rdn('2.5.4.10', o)), rdn('2.5.4.3', cn));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand '::' and write 8 groups of 16 bits.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

// ---- certificates ---------------------------------------------------------

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

interface Subject {
  cn: string;
  organizations?: string[];
  key: KeyObject; // public key of the subject
}

interface Issuer {
  cn: string;
  key: KeyObject; // private key of the issuer
  keyId: Buffer;
}

function keyId(pub: KeyObject): Buffer {
  return createHash('sha1').update(pub.export({ type: 'spki', format: 'der' })).digest();
}

function buildCert(subject: Subject, issuer: Issuer, extensions: Buffer[], validDays: number): string {
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(issuer.cn),
    seq(time(new Date(now - 60 * 60 * 1000)), time(new Date(now + validDays * 24 * 60 * 60 * 1000))),
    name(subject.cn, subject.organizations),
    subject.key.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer.key); // DER-encoded ECDSA signature
  const der = seq(tbs, ECDSA_SHA256, bitString(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function newKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

const pemKey = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Make a self-signed CA that can issue leaf certificates. */
export function createCA(commonName = 'gracekeeper-test-ca', validDays = 7): CertificateAuthority {
  const { privateKey, publicKey } = newKey();
  const id = keyId(publicKey);
  const certPem = buildCert(
    { cn: commonName, key: publicKey },
    { cn: commonName, key: privateKey, keyId: id },
    [
      extension('2.5.29.19', true, seq(bool(true))), // basicConstraints CA:TRUE
      extension('2.5.29.15', true, bitString(Buffer.from([0x86]), 1)), // digitalSignature, keyCertSign, cRLSign
      extension('2.5.29.14', false, octets(id)), // subjectKeyIdentifier
    ],
    validDays,
  );
  return {
    certPem,
    keyPem: pemKey(privateKey),
    issue(opts: LeafOptions): KeyPairPem {
      if (!opts.commonName) throw new Error('pki: a leaf certificate needs a commonName');
      const leaf = newKey();
      const hosts = opts.hosts ?? [];
      const usage = opts.usage ?? 'server';
      const ekus = [
        ...(usage === 'server' || usage === 'both' ? [oid('1.3.6.1.5.5.7.3.1')] : []),
        ...(usage === 'client' || usage === 'both' ? [oid('1.3.6.1.5.5.7.3.2')] : []),
      ];
      const exts = [
        extension('2.5.29.19', true, seq()), // basicConstraints CA:FALSE
        extension('2.5.29.15', true, bitString(Buffer.from([0xa0]), 5)), // digitalSignature, keyEncipherment
        extension('2.5.29.37', false, seq(...ekus)),
        extension('2.5.29.14', false, octets(keyId(leaf.publicKey))),
        extension('2.5.29.35', false, seq(tlv(0x80, id))), // authorityKeyIdentifier [0] keyid
      ];
      if (hosts.length > 0) {
        const names = hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
        exts.push(extension('2.5.29.17', false, seq(...names)));
      }
      const cert = buildCert(
        { cn: opts.commonName, organizations: opts.organizations ?? [], key: leaf.publicKey },
        { cn: commonName, key: privateKey, keyId: id },
        exts,
        opts.validDays ?? validDays,
      );
      return { certPem: cert, keyPem: pemKey(leaf.privateKey) };
    },
  };
}

/** An RSA key pair in PEM, for the API server's service-account token signing. */
export function createServiceAccountKeys(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Parse-check a PEM certificate with Node's own X.509 parser (throws if malformed). */
export function describeCert(pem: string): X509Certificate {
  return new X509Certificate(pem);
}
