/**
 * Draining connections on shutdown (test/faults/shutdown.fault.ts runs the whole drain under load): once
 * shutdown begins every answer carries `Connection: close`, so by the time the listener closes no client is
 * left holding a keep-alive connection that a request could race against.
 */
import { Agent, request } from 'node:https';
import t from 'tap';
import { edited } from './lib/catalogue.js';
import { tlsTestServer } from './lib/tls.js';

const review = edited(() => {});

function post(baseUrl: string, agent: Agent, path: string): Promise<{ status: number; connection?: string; socketReused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, socketReused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(review);
  });
}

t.test('keep-alive until shutdown begins, then Connection: close on every answer', async (t) => {
  const server = await tlsTestServer();
  t.teardown(() => server.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: server.caPem });
  t.teardown(() => agent.destroy());

  const first = await post(server.baseUrl, agent, '/validate');
  const second = await post(server.baseUrl, agent, '/validate');
  t.equal(first.status, 200);
  t.not(first.connection, 'close', 'no Connection: close while serving');
  t.ok(second.socketReused, 'the connection is kept alive while serving');

  server.readiness.markShuttingDown();
  const draining = await post(server.baseUrl, agent, '/mutate');
  t.equal(draining.status, 200, 'still answered during the drain delay');
  t.equal(draining.connection, 'close', 'the answer asks the client to close the connection');
  const next = await post(server.baseUrl, agent, '/validate');
  t.equal(next.status, 200);
  t.notOk(next.socketReused, 'the next request comes on a new connection');

  const probe = await server.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(probe.statusCode, 503, 'not ready');
  t.equal(probe.headers.connection, 'close', 'health answers close their connection too');
});
