import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { FileWatcher } from '../server/file-watcher.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Clients must present a certificate signed by this CA (the API server's client certificate). */
  clientCaFile?: string;
}

/** The bytes of the TLS files, in TlsFiles order. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export const MIN_TLS_VERSION = 'TLSv1.2';

function filesOf(files: TlsFiles): Array<[string, string]> {
  const list: Array<[string, string]> = [
    ['tls.certFile', files.certFile],
    ['tls.keyFile', files.keyFile],
  ];
  if (files.clientCaFile) list.push(['tls.clientCaFile', files.clientCaFile]);
  return list;
}

function materialOf(contents: readonly Buffer[]): TlsMaterial {
  return { cert: contents[0]!, key: contents[1]!, ...(contents[2] ? { ca: contents[2] } : {}) };
}

export function secureContextOptions(m: TlsMaterial): SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), minVersion: MIN_TLS_VERSION };
}

/** Options for https.createServer: client certificates are requested and required only with a client CA. */
export function httpsOptions(m: TlsMaterial): HttpsServerOptions {
  return { ...secureContextOptions(m), requestCert: !!m.ca, rejectUnauthorized: !!m.ca };
}

/** Throws TLS_UNREADABLE when the PEMs are not a usable certificate and matching key (or CA). */
export function checkTlsMaterial(m: TlsMaterial): void {
  try {
    createSecureContext(secureContextOptions(m));
  } catch (e) {
    throw new GracekeeperError(ErrorCode.TlsUnreadable, `not a usable certificate and key: ${(e as Error).message}`);
  }
}

/** Reads and checks the files now (startup). Errors name the config field and the file. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const contents = filesOf(files).map(([field, path]) => {
    try {
      return readFileSync(path);
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new GracekeeperError(ErrorCode.TlsUnreadable, `${path}: ${reason}`, field);
    }
  });
  const material = materialOf(contents);
  checkTlsMaterial(material);
  return material;
}

export interface CertificateReloaderOptions {
  files: TlsFiles;
  intervalMs: number;
  /** What the server started with: only different bytes are swapped in. */
  initial: TlsMaterial;
  /** Installs the new context on the server (https.Server#setSecureContext). */
  apply(options: SecureContextOptions): void;
  onReload(result: 'success' | 'failure', error?: Error): void;
}

/**
 * cert-manager style rotation: re-read the files on change and every interval; when the bytes differ and form a
 * usable certificate, swap them into the running server; otherwise keep serving the last good one. Handshakes
 * already made keep their context; new handshakes get the new certificate.
 */
export function certificateReloader(options: CertificateReloaderOptions): FileWatcher {
  const initial = [options.initial.cert, options.initial.key, ...(options.initial.ca ? [options.initial.ca] : [])];
  return new FileWatcher({
    paths: filesOf(options.files).map(([, path]) => path),
    intervalMs: options.intervalMs,
    initial,
    onChange(contents) {
      try {
        const material = materialOf(contents);
        checkTlsMaterial(material);
        options.apply(secureContextOptions(material));
        options.onReload('success');
      } catch (e) {
        options.onReload('failure', e as Error);
      }
    },
    onReadError(error) {
      options.onReload('failure', new GracekeeperError(ErrorCode.TlsUnreadable, error.message));
    },
  });
}
