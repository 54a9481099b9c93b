import t from 'tap';
import { ApiException } from '@kubernetes/client-node';
import { describeApiError } from '../../src/cluster/api-errors.js';

t.test('an ApiException says the status and the API server message, and hints at RBAC on 403', async (t) => {
  const body = JSON.stringify({
    kind: 'Status',
    message: 'services is forbidden: User "system:serviceaccount:gk:gk" cannot list resource "services"',
    code: 403,
  });
  const err = new ApiException(403, 'Unknown API Status Code!', body, {});
  t.equal(
    describeApiError(err),
    'HTTP 403: services is forbidden: User "system:serviceaccount:gk:gk" cannot list resource "services" (RBAC: needs get, list, watch on persistentvolumeclaims, services, nodes)',
  );
  t.equal(describeApiError(new ApiException(401, 'Unauthorized', undefined, {})), 'HTTP 401: Unauthorized (credentials rejected)');
  t.equal(describeApiError(new ApiException(500, 'x', { message: 'etcdserver: request timed out' }, {})), 'HTTP 500: etcdserver: request timed out');
  const long = describeApiError(new ApiException(422, 'x', { message: 'y'.repeat(1000) }, {}));
  t.equal(long, `HTTP 422: ${'y'.repeat(159)}…`, 'a long message is clipped');
});

t.test('a failed watch (statusCode) says the status', async (t) => {
  const err = Object.assign(new Error('Gone'), { statusCode: 410 });
  t.equal(describeApiError(err), 'HTTP 410: Gone');
});

t.test('a network error says the reason, not the whole URL', async (t) => {
  const err = Object.assign(
    new Error('request to https://127.0.0.1:6443/api/v1/nodes?limit=500 failed, reason: connect ECONNREFUSED 127.0.0.1:6443'),
    { code: 'ECONNREFUSED', type: 'system' },
  );
  t.equal(describeApiError(err), 'connect ECONNREFUSED 127.0.0.1:6443');
  t.equal(describeApiError(new Error('first line\nsecond line')), 'first line');
});

t.test('anything thrown becomes one line', async (t) => {
  t.equal(describeApiError('boom'), 'boom');
  t.equal(describeApiError(undefined), 'undefined');
  t.equal(describeApiError({}), '[object Object]');
});
