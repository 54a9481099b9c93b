import type { V1Container } from '@kubernetes/client-node';
import t from 'tap';
import { knownServerImage, officialServerImage, parseImageReference, serverLaunch } from '../../src/engine/images.js';

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

t.test('knownServerImage: official images of every kind, Percona and Bitnami, and nothing that merely looks alike', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['nginx:1.27', 'nginx'],
    ['mirror.gcr.io/library/nginx:1.27-alpine', 'nginx'],
    ['httpd:2.4', 'httpd'],
    ['public.ecr.aws/docker/library/memcached:1.6', 'memcached'],
    ['percona:8.0', 'percona'],
    ['percona/percona-server:8.4', 'percona/percona-server'],
    ['docker.io/percona/percona-distribution-postgresql:17.5-2', 'percona/percona-distribution-postgresql'],
    ['bitnami/postgresql:16', 'bitnami/postgresql'],
    ['docker.io/bitnamilegacy/postgresql:16.4.0-debian-12-r0', 'bitnami/postgresql'],
    ['public.ecr.aws/bitnami/postgresql:16', 'bitnami/postgresql'],
    ['bitnami/mysql:8.4', 'bitnami/mysql'],
    ['bitnami/mariadb:11.4', 'bitnami/mariadb'],
    ['bitnami/mongodb:8.0', 'bitnami/mongodb'],
    ['bitnami/redis:7.4', 'bitnami/redis'],
    // Not these images.
    ['bitnami/postgresql-repmgr:16', undefined],
    ['bitnami/redis-sentinel:7', undefined],
    ['bitnami/nginx:1.27', undefined],
    ['nginxinc/nginx-unprivileged:1.27', undefined],
    ['ghcr.io/bitnami/postgresql:16', undefined],
    ['percona/percona-server-mongodb:7.0', undefined],
    ['example/nginx:1.0', undefined],
  ];
  for (const [image, want] of cases) t.equal(knownServerImage(image)?.name, want, image);
  // officialServerImage keeps to the official images of servers that hold data.
  for (const image of ['nginx:1.27', 'httpd:2.4', 'memcached:1.6', 'bitnami/postgresql:16', 'percona/percona-server:8.4']) {
    t.equal(officialServerImage(image), undefined, `${image} is not an official data server`);
  }
});

t.test('serverLaunch: web servers, memcached, Percona and Bitnami images', async (t) => {
  const launch = (image: string, c: Partial<V1Container>) => serverLaunch({ name: 'c', image, ...c }, knownServerImage(image)!);
  // nginx: the image CMD is `nginx -g 'daemon off;'`; without daemon off nginx forks and the container exits.
  t.equal(launch('nginx:1.27', {}), 'entrypoint');
  t.equal(launch('nginx:1.27', { args: ['nginx', '-g', 'daemon off;'] }), 'entrypoint');
  t.equal(launch('nginx:1.27', { command: ['nginx', '-g', 'daemon off; worker_processes 2;'] }), 'direct');
  t.equal(launch('nginx:1.27', { command: ['nginx-debug', '-gdaemon off;'] }), 'direct');
  t.equal(launch('nginx:1.27', { command: ['nginx'] }), undefined, 'daemonizes and exits');
  t.equal(launch('nginx:1.27', { args: ['nginx', '-t'] }), undefined, 'config test');
  t.equal(launch('nginx:1.27', { command: ['nginx', '-V'] }), undefined);
  t.equal(launch('nginx:1.27', { command: ['sh', '-c', 'cp /conf/* /etc/nginx/ && nginx -t'] }), undefined);
  t.equal(launch('nginx:1.27', { args: ['-g', 'daemon off;'] }), undefined, 'the nginx entrypoint prepends nothing');
  // httpd: no entrypoint; CMD httpd-foreground.
  t.equal(launch('httpd:2.4', {}), 'direct');
  t.equal(launch('httpd:2.4', { args: ['httpd', '-DFOREGROUND'] }), 'direct');
  t.equal(launch('httpd:2.4', { command: ['httpd', '-D', 'FOREGROUND'] }), 'direct');
  t.equal(launch('httpd:2.4', { command: ['httpd'] }), undefined, 'forks and exits');
  t.equal(launch('httpd:2.4', { args: ['httpd-foreground', '-t'] }), undefined, 'config test');
  t.equal(launch('httpd:2.4', { command: ['htpasswd', '-bc', '/auth/htpasswd', 'u', 'p'] }), undefined);
  // memcached: options go to memcached; -d daemonizes.
  t.equal(launch('memcached:1.6', {}), 'entrypoint');
  t.equal(launch('memcached:1.6', { args: ['-m', '64'] }), 'entrypoint');
  t.equal(launch('memcached:1.6', { args: ['-d'] }), undefined);
  t.equal(launch('memcached:1.6', { args: ['memcached', '-V'] }), undefined);
  // redis with --daemonize yes forks.
  t.equal(launch('redis:7', { args: ['--daemonize', 'yes'] }), undefined);
  t.equal(launch('redis:7', { args: ['--daemonize', 'no'] }), 'entrypoint');
  // Percona: the mysql / postgres entrypoint logic under other file names.
  t.equal(launch('percona/percona-server:8.4', {}), 'entrypoint');
  t.equal(launch('percona/percona-server:8.4', { args: ['--max-connections=500'] }), 'entrypoint');
  t.equal(launch('percona/percona-server:8.4', { args: ['mysql', '-h', 'db'] }), undefined);
  t.equal(launch('percona/percona-distribution-postgresql:17', {}), 'entrypoint');
  t.equal(launch('percona/percona-distribution-postgresql:17', { command: ['/entrypoint.sh', 'postgres'] }), 'entrypoint');
  t.equal(launch('percona/percona-distribution-postgresql:17', { args: ['psql', '-h', 'db'] }), undefined);
  // Bitnami: the entrypoint runs setup only for run.sh; run.sh alone starts the server without it.
  t.equal(launch('bitnami/postgresql:16', {}), 'entrypoint');
  t.equal(launch('bitnami/postgresql:16', { args: ['/opt/bitnami/scripts/postgresql/run.sh'] }), 'entrypoint');
  t.equal(launch('bitnami/postgresql:16', { command: ['/opt/bitnami/scripts/postgresql/run.sh'] }), 'direct');
  t.equal(launch('bitnami/postgresql:16', { command: ['/opt/bitnami/scripts/postgresql/entrypoint.sh', '/opt/bitnami/scripts/postgresql/run.sh'] }), 'entrypoint');
  t.equal(launch('bitnami/postgresql:16', { args: ['psql', '-h', 'db'] }), undefined);
  t.equal(launch('bitnami/redis:7.4', { command: ['/bin/bash', '-c', '/opt/bitnami/scripts/start-scripts/start-master.sh'] }), undefined);
  t.equal(launch('bitnami/redis:7.4', { args: ['redis-cli', 'ping'] }), undefined);
  t.equal(launch('bitnami/mysql:8.4', { args: ['/opt/bitnami/scripts/mysql/run.sh', '--version'] }), undefined);
});
