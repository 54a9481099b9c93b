import t from 'tap';
import { GracekeeperError } from '../../src/errors.js';
import { toWorkload } from '../../src/engine/workload.js';

const pod = (spec: unknown) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });

t.test('a wrong shape names the innermost field', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ containers: [{ name: 'a', ports: [{ containerPort: 'eighty' }] }] }, /^Pod: spec\.containers\[0\]\.ports\[0\]\.containerPort expected integer/],
    [{ containers: [{ name: 'a', env: [{ name: 'X', value: 3 }] }] }, /^Pod: spec\.containers\[0\]\.env\[0\]\.value expected string/],
    [{ containers: 'nope' }, /^Pod: spec\.containers expected array/],
    [{ containers: [{ name: 'a', lifecycle: { preStop: { sleep: { seconds: '5' } } } }] }, /^Pod: spec\.containers\[0\]\.lifecycle\.preStop\.sleep\.seconds expected integer/],
    [{ containers: [{ image: 'x' }] }, /^Pod: spec\.containers\[0\]\.name is required$/],
    [{ containers: [{ name: 'a', ports: 'http' }] }, /^Pod: spec\.containers\[0\]\.ports expected array/],
    [{ containers: [] }, /^Pod: spec\.containers /],
  ];
  for (const [spec, message] of cases) {
    const err = t.throws(() => toWorkload(pod(spec))) as GracekeeperError;
    t.equal(err.code, 'WORKLOAD_UNREADABLE');
    t.match(err.detail, message);
    t.equal(err.message, `${err.where}: ${err.detail}`, 'where is the JSON pointer prefix');
    t.match(err.where, /^\/spec/);
  }
});

t.test('null optional fields are absent, not errors', async (t) => {
  const w = toWorkload(pod({ containers: [{ name: 'a', ports: null, lifecycle: null, env: null }], initContainers: null }));
  t.equal(w?.podSpec.containers[0]?.name, 'a');
});
