/**
 * Slow clients (slowloris): a request whose body never finishes arriving must not hold its connection past
 * server.requestTimeoutSeconds. The server answers 408 and closes the connection.
 */
import { connect } from 'node:tls';
import t from 'tap';
import { edited } from './lib/catalogue.js';
import { sendRaw, tlsTestServer } from './lib/tls.js';

/** Sends headers announcing `length` bytes and only the first `sent` of them; resolves with what came back when the server closed. */
function trickle(baseUrl: string, caPem: string, length: number, sent: string, giveUpMs: number): Promise<{ closedByServer: boolean; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: caPem, servername: 'localhost' }, () => {
      socket.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${sent}`);
    });
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ closedByServer: false, text });
    }, giveUpMs);
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closedByServer: true, text });
    });
  });
}

t.test('a body that never finishes is cut off after requestTimeoutSeconds with a 408', async (t) => {
  const server = await tlsTestServer({ config: { server: { requestTimeoutSeconds: 1 } } });
  t.teardown(() => server.close());
  // Well past the 1 s timeout plus Node's check interval; without the timer armed the connection stays open.
  const result = await trickle(server.baseUrl, server.caPem, 100, '{', 15_000);
  t.ok(result.closedByServer, 'the server closed the connection');
  t.match(result.text, /^HTTP\/1\.1 408 /, 'with 408 Request Timeout');

  const normal = await sendRaw(server.baseUrl, server.caPem, '/validate', edited(() => {}));
  t.equal(normal.status, 200, 'a complete request is still answered');
});
