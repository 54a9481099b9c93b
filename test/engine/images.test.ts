import type { V1Container } from '@kubernetes/client-node';
import t from 'tap';
import { officialServerImage, parseImageReference, serverLaunch } from '../../src/engine/images.js';

t.test('parseImageReference normalises like Docker', async (t) => {
  t.same(parseImageReference('redis'), { registry: 'docker.io', repository: 'library/redis' });
  t.same(parseImageReference('redis:7.4-alpine'), { registry: 'docker.io', repository: 'library/redis', tag: '7.4-alpine' });
  t.same(parseImageReference('docker.io/library/mysql:8.4@sha256:abc'), {
    registry: 'docker.io',
    repository: 'library/mysql',
    tag: '8.4',
    digest: 'sha256:abc',
  });
  t.same(parseImageReference('index.docker.io/postgres'), { registry: 'docker.io', repository: 'library/postgres' });
  t.same(parseImageReference('bitnami/redis:7'), { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' });
  t.same(parseImageReference('localhost:5000/mysql:8'), { registry: 'localhost:5000', repository: 'mysql', tag: '8' });
  t.same(parseImageReference('localhost/mysql'), { registry: 'localhost', repository: 'mysql' });
  t.same(parseImageReference('GHCR.io/acme/mongo@sha256:def'), { registry: 'ghcr.io', repository: 'acme/mongo', digest: 'sha256:def' });
});

t.test('officialServerImage recognises the official images however they are written', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['mysql', 'mysql'],
    ['mysql:8.4-oracle', 'mysql'],
    ['library/mariadb:11', 'mariadb'],
    ['docker.io/postgres:16-alpine', 'postgres'],
    ['docker.io/library/redis@sha256:0123', 'redis'],
    ['registry-1.docker.io/library/mongo:7', 'mongo'],
    ['rabbitmq:4.1-management', 'rabbitmq'],
    ['elasticsearch:8.15.0', 'elasticsearch'],
    ['docker.elastic.co/elasticsearch/elasticsearch:8.15.0', 'elasticsearch'],
    ['mirror.gcr.io/library/postgres:17', 'postgres'],
    ['public.ecr.aws/docker/library/redis:7', 'redis'],
    // Not the official images: other publishers, private copies, look-alike names.
    ['bitnami/redis:7', undefined],
    ['ghcr.io/acme/mysql:8', undefined],
    ['registry.example.com/library/postgres:16', undefined],
    ['postgres-exporter:0.15', undefined],
    ['mysql/mysql-server:8.0', undefined],
    ['nginx:1.27', undefined],
  ];
  for (const [image, want] of cases) t.equal(officialServerImage(image)?.name, want, image);
  t.equal(officialServerImage(undefined), undefined, 'no image');
  t.equal(officialServerImage(''), undefined, 'empty image');
});

t.test('serverLaunch reads command and args the way the images and Kubernetes do', async (t) => {
  const launch = (image: string, c: Partial<V1Container>) =>
    serverLaunch({ name: 'c', image, ...c }, officialServerImage(image)!);
  // No command, no args: the image CMD starts the server through its entrypoint.
  t.equal(launch('mysql:8.4', {}), 'entrypoint');
  t.equal(launch('mysql:8.4', { command: [], args: [] }), 'entrypoint', 'empty lists count as unset');
  // Options go to the server; the bare server name too.
  t.equal(launch('postgres:16', { args: ['-c', 'max_connections=200'] }), 'entrypoint');
  t.equal(launch('mariadb:11', { args: ['mysqld'] }), 'entrypoint', 'mariadb still accepts mysqld');
  t.equal(launch('redis:7', { args: ['/etc/redis/redis.conf'] }), 'entrypoint', 'redis takes a .conf file');
  t.equal(launch('mongo:7', { args: ['--replSet', 'rs0'] }), 'entrypoint');
  // rabbitmq and elasticsearch do not prepend their server to options.
  t.equal(launch('rabbitmq:4', { args: ['-detached'] }), undefined);
  t.equal(launch('elasticsearch:8.15.0', { args: ['-Ediscovery.type=single-node'] }), undefined);
  t.equal(launch('elasticsearch:8.15.0', { args: ['eswrapper'] }), 'entrypoint');
  // Another program through the entrypoint.
  t.equal(launch('postgres:16', { args: ['psql', '-h', 'db'] }), undefined);
  t.equal(launch('redis:7', { args: ['redis-cli', 'ping'] }), undefined);
  // Options that print and exit.
  t.equal(launch('mysql:8.4', { args: ['--version'] }), undefined);
  t.equal(launch('postgres:16', { args: ['-V'] }), undefined);
  // A command replaces the entrypoint: the server binary runs directly, anything else is not the server.
  t.equal(launch('redis:7', { command: ['redis-server'], args: ['--port', '6380'] }), 'direct');
  t.equal(launch('mongo:7', { command: ['/usr/bin/mongod'] }), 'direct');
  t.equal(launch('mysql:8.4', { command: ['sh', '-c', 'mysqld'] }), undefined);
  t.equal(launch('mysql:8.4', { args: ['/usr/sbin/mysqld'] }), 'direct', 'a path is exec\'d without the setup');
  // The entrypoint named as command: what follows is what it receives; alone it drops the image CMD.
  t.equal(launch('postgres:16', { command: ['docker-entrypoint.sh', 'postgres'] }), 'entrypoint');
  t.equal(launch('postgres:16', { command: ['docker-entrypoint.sh'], args: ['-c', 'fsync=off'] }), 'entrypoint');
  t.equal(launch('postgres:16', { command: ['/usr/local/bin/docker-entrypoint.sh'] }), undefined);
});
