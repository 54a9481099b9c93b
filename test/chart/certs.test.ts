import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:tls';
import t, { type Test } from 'tap';
import { SPAWNING_FILE_TIMEOUT_MS } from '../cluster/timeouts.js';

t.setTimeout(SPAWNING_FILE_TIMEOUT_MS);

const script = resolve(import.meta.dirname, '../../certs/make-certs.sh');

function makeCerts(...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function outDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'gk-certs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cert = (dir: string, name: string) => new X509Certificate(readFileSync(join(dir, name)));

t.test('serving certificate for the Service, signed by the CA, with dev SANs', async (t) => {
  const dir = outDir(t);
  const r = makeCerts('--service', 'gk', '--namespace', 'policy', '--out', dir, '--dev');
  t.equal(r.status, 0, r.stderr);

  const ca = cert(dir, 'ca.crt');
  const leaf = cert(dir, 'tls.crt');
  t.ok(ca.ca, 'the CA is a CA');
  t.notOk(leaf.ca, 'the serving certificate is not');
  t.ok(leaf.checkIssued(ca), 'issued by the CA');
  t.ok(leaf.verify(ca.publicKey), 'signature verifies with the CA key');
  t.ok(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'tls.key')))), 'tls.key belongs to tls.crt');
  t.same(
    leaf.subjectAltName?.split(', ').sort(),
    [
      'DNS:gk',
      'DNS:gk.policy',
      'DNS:gk.policy.svc',
      'DNS:gk.policy.svc.cluster.local',
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
    ].sort(),
  );
  t.equal(leaf.checkHost('gk.policy.svc'), 'gk.policy.svc');
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  t.match(leaf.keyUsage ?? [], ['1.3.6.1.5.5.7.3.1'], 'extended key usage serverAuth');

  // openssl's own chain check, the one the script runs too, from the outside.
  const verify = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'tls.crt')], { encoding: 'utf8' });
  t.match(verify, /: OK/);

  for (const key of ['ca.key', 'tls.key']) t.equal(statSync(join(dir, key)).mode & 0o777, 0o600, `${key} is private`);

  const caBundle = Buffer.from(readFileSync(join(dir, 'ca.crt'))).toString('base64');
  t.ok(r.stdout.split('\n').includes(caBundle), 'prints the caBundle on a line of its own');
  t.match(r.stdout, `kubectl -n policy create secret tls gk-serving --cert=${dir}/tls.crt --key=${dir}/tls.key`);
  t.match(r.stdout, `--set certificates.secret.caBundle=${caBundle}`);
  t.match(r.stdout, '--set fullnameOverride=gk');
});

t.test('without --dev there are no loopback SANs', async (t) => {
  const dir = outDir(t);
  t.equal(makeCerts('--out', dir).status, 0);
  const leaf = cert(dir, 'tls.crt');
  t.equal(leaf.checkHost('gracekeeper.gracekeeper.svc'), 'gracekeeper.gracekeeper.svc');
  t.equal(leaf.checkHost('localhost'), undefined);
  t.equal(leaf.checkIP('127.0.0.1'), undefined);
});

t.test('a rerun keeps the CA (stable caBundle) and issues a new serving certificate; --force replaces the CA', async (t) => {
  const dir = outDir(t);
  t.equal(makeCerts('--out', dir).status, 0);
  const ca1 = cert(dir, 'ca.crt');
  const leaf1 = cert(dir, 'tls.crt');
  t.equal(makeCerts('--out', dir).status, 0);
  t.equal(cert(dir, 'ca.crt').fingerprint256, ca1.fingerprint256);
  const leaf2 = cert(dir, 'tls.crt');
  t.not(leaf2.serialNumber, leaf1.serialNumber);
  t.ok(leaf2.checkIssued(ca1));
  t.equal(makeCerts('--out', dir, '--force').status, 0);
  t.not(cert(dir, 'ca.crt').fingerprint256, ca1.fingerprint256);
  t.ok(cert(dir, 'tls.crt').checkIssued(cert(dir, 'ca.crt')));
});

t.test('a TLS client that trusts only the CA accepts the server for the Service name', async (t) => {
  const dir = outDir(t);
  t.equal(makeCerts('--out', dir, '--namespace', 'tls-check').status, 0);
  const server = createServer(
    { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) },
    (_req, res) => res.end('ok'),
  );
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  const handshake = (servername: string) =>
    new Promise<string>((done) => {
      const socket = connect({ host: '127.0.0.1', port, servername, ca: readFileSync(join(dir, 'ca.crt')) });
      socket.on('secureConnect', () => {
        socket.end();
        done('ok');
      });
      socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    });
  t.equal(await handshake('gracekeeper.tls-check.svc'), 'ok');
  t.equal(await handshake('gracekeeper.other.svc'), 'ERR_TLS_CERT_ALTNAME_INVALID');
});

t.test('bad arguments are refused with a message naming them', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /unknown argument '--bogus'/],
    [['--namespace', 'Not_A_Label'], /--namespace 'Not_A_Label' is not a DNS label/],
    [['--service', '--dev'], /--service needs a value/],
    [['--days', 'soon'], /--days 'soon' is not a positive whole number/],
    [['--out'], /--out needs a value/],
  ];
  for (const [args, message] of cases) {
    const r = makeCerts(...args);
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, message);
  }
});
