/**
 * The test app listening on a real loopback TLS socket with a certificate made at test time, and a raw HTTPS
 * client that sends bytes exactly as given (no JSON encoding, optional chunked transfer, pinned TLS versions).
 */
import { request, type Agent, type RequestOptions } from 'node:https';
import type { SecureVersion } from 'node:tls';
import { createCertificateAuthority, issueCertificate } from '../../../src/tls/certificates.js';
import { httpsOptions } from '../../../src/tls/reload.js';
import { testServer, type TestServer, type TestServerOptions } from '../../helpers/server.js';

export interface TlsTestServer extends TestServer {
  baseUrl: string;
  caPem: string;
  close(): Promise<void>;
}

export async function tlsTestServer(options: Omit<TestServerOptions, 'https'> & { clientCa?: string } = {}): Promise<TlsTestServer> {
  const ca = await createCertificateAuthority('reliability test CA', 1);
  const serving = await issueCertificate(ca, { commonName: 'localhost', sans: ['localhost', '127.0.0.1'], days: 1 });
  const https = httpsOptions({ cert: Buffer.from(serving.cert), key: Buffer.from(serving.key), ...(options.clientCa ? { ca: Buffer.from(options.clientCa) } : {}) });
  const server = testServer({ ...options, https });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { ...server, baseUrl: `https://127.0.0.1:${port}`, caPem: ca.cert, close: () => server.app.close() };
}

export interface RawAnswer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface SendOptions {
  contentType?: string | null;
  chunked?: boolean;
  method?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  cert?: string;
  key?: string;
  ciphers?: string;
  /** A keep-alive agent to reuse connections (default: a new connection per request). */
  agent?: Agent;
}

/** POSTs `body` as bytes over a new TLS connection and returns the answer as text. */
export function sendRaw(baseUrl: string, caPem: string, path: string, body: string | Buffer, options: SendOptions = {}): Promise<RawAnswer> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const headers: Record<string, string | number> = {};
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  if (!options.chunked) headers['content-length'] = bytes.length;
  const requestOptions: RequestOptions = {
    method: options.method ?? 'POST',
    headers,
    ca: caPem,
    agent: options.agent ?? false,
    ...(options.minVersion ? { minVersion: options.minVersion } : {}),
    ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
    ...(options.cert ? { cert: options.cert, key: options.key } : {}),
    ...(options.ciphers ? { ciphers: options.ciphers } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunked) {
      // Several writes without a length: the server must count bytes as they arrive.
      for (let i = 0; i < bytes.length; i += 256 * 1024) req.write(bytes.subarray(i, i + 256 * 1024));
      req.end();
    } else req.end(bytes);
  });
}
