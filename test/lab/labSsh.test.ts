import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import { ensureLabUp, lab, labUnavailable, nodeIps, nodeNames, repoRoot, sh, ssh } from './labHelpers';

const skip = labUnavailable();

describe('local lab over SSH', { skip }, () => {
  before(() => ensureLabUp());

  for (const [i, ip] of nodeIps.entries()) {
    it(`ssh root@${ip} docker info (StrictHostKeyChecking=yes) shows Docker 20.10 on ${nodeNames[i]}`, () => {
      const r = ssh(ip, 'docker info');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Server Version: 20\.10\./);
      assert.match(r.out, new RegExp(`Name: ${nodeNames[i]}`));
      const client = ssh(ip, 'docker version --format {{.Client.Version}}');
      assert.match(client.out.trim(), /^20\.10\./, 'the docker on PATH inside the node is the Debian 20.10 client');
    });
  }

  it('lab status --json reports every daemon up with versions', () => {
    const r = lab('status', '--json');
    assert.equal(r.code, 0, r.out + r.err);
    const s = JSON.parse(r.out) as { up: boolean; nodes: { name: string; address: string; mode: string; sshd: { up: boolean }; etcd: { up: boolean; version?: string }; dockerd: { up: boolean; version?: string } }[] };
    assert.equal(s.up, true);
    assert.deepEqual(s.nodes.map((n) => [n.name, n.address]), [['docker-node1', '10.99.0.11'], ['docker-node2', '10.99.0.12']]);
    for (const n of s.nodes) {
      assert.ok(n.sshd.up && n.etcd.up && n.dockerd.up, n.name);
      assert.match(n.dockerd.version ?? '', /^20\.10\./);
      assert.match(n.etcd.version ?? '', /^3\.4\./);
      assert.ok(['cluster', 'swarm', 'plain'].includes(n.mode));
    }
  });

  it('the etcd cluster is healthy (etcdctl v2 cluster-health)', () => {
    // from inside node1's namespace: the nodes' port guard drops 2379 from the machine
    const v2 = sh('nsenter', ['--net=/run/netns/docker-node1', '--', 'sh', '-c', 'ETCDCTL_API=2 etcdctl --endpoints http://10.99.0.11:2379 cluster-health']);
    assert.equal(v2.code, 0, v2.out + v2.err);
    assert.match(v2.out, /cluster is healthy/);
    assert.equal((v2.out.match(/is healthy: got healthy result/g) ?? []).length, 2);
  });

  for (const [i, ip] of nodeIps.entries()) {
    it(`${nodeNames[i]} has the seeded images`, () => {
      const r = ssh(ip, 'docker image ls --format {{.Repository}}:{{.Tag}}');
      assert.equal(r.code, 0, r.err);
      for (const img of ['busybox:latest', 'nginx:latest', 'redis:latest', 'flask-redis:latest']) {
        assert.ok(r.out.split('\n').includes(img), `${img} missing on ${nodeNames[i]}: ${r.out}`);
      }
    });
  }

  it('node1 reaches node2 over the lab LAN, and the nodes have no default route', () => {
    const r = ssh(nodeIps[0], 'curl -s -m 3 http://10.99.0.12:2375/_ping; echo; getent hosts docker-node2; ip route show default | wc -l');
    assert.equal(r.code, 0, r.err);
    const [ping, hosts, defaults] = r.out.trim().split('\n');
    assert.equal(ping, 'OK');
    assert.match(hosts ?? '', /^10\.99\.0\.12\s+docker-node2/);
    assert.equal(defaults?.trim(), '0');
  });

  it('lab-dockerd is on PATH inside the node and reports dockerd', () => {
    const r = ssh(nodeIps[1], 'command -v lab-dockerd && lab-dockerd status');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /\/usr\/local\/sbin\/lab-dockerd/);
    assert.match(r.out, /dockerd running \(pid \d+\)/);
  });
});

describe('lab-dockerd switches dockerd flags from an SSH session', { skip }, () => {
  before(() => ensureLabUp());

  it('restart swarm drops the cluster store, restart cluster brings it back, flags survive in /etc/docker', () => {
    const ip = nodeIps[1];
    const toSwarm = ssh(ip, 'lab-dockerd restart swarm && docker info --format "store={{.ClusterStore}}"');
    try {
      assert.equal(toSwarm.code, 0, toSwarm.out + toSwarm.err);
      assert.match(toSwarm.out, /^store=$/m);
      const status = JSON.parse(lab('status', '--json').out) as { nodes: { name: string; mode: string }[] };
      assert.equal(status.nodes[1]?.mode, 'swarm');
    } finally {
      const back = ssh(ip, 'lab-dockerd restart cluster && docker info --format "store={{.ClusterStore}}" && cat /etc/docker/lab-dockerd.flags');
      assert.equal(back.code, 0, back.out + back.err);
      assert.match(back.out, /^store=etcd:\/\/10\.99\.0\.12:2379$/m);
      assert.match(back.out, /^--cluster-advertise=10\.99\.0\.12:2375$/m);
    }
  });
});

describe('the seeded flask-redis app works on a node', { skip }, () => {
  before(() => ensureLabUp());

  it('counts hits in redis and names the serving container', () => {
    const tag = `labtest-${process.pid}`;
    const script = [
      'set -e',
      `docker network create ${tag} >/dev/null`,
      `docker run -d --name ${tag}-redis --network ${tag} redis >/dev/null`,
      `docker run -d --name ${tag}-flask --network ${tag} -e REDIS_HOST=${tag}-redis --hostname ${tag}-web flask-redis >/dev/null`,
      `ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ${tag}-flask)`,
      'for i in $(seq 1 50); do curl -s -m 2 "http://$ip:5000/" >/dev/null && break; sleep 0.2; done',
      'curl -s -m 3 "http://$ip:5000/"; curl -s -m 3 "http://$ip:5000/"',
    ].join('\n');
    try {
      const r = ssh(nodeIps[0], script);
      assert.equal(r.code, 0, r.out + r.err);
      const lines = r.out.trim().split('\n');
      assert.equal(lines.length, 2, r.out);
      const counts = lines.map((l) => Number(/seen (\d+) times/.exec(l)?.[1]));
      assert.equal(counts[1], (counts[0] ?? NaN) + 1, r.out);
      assert.match(lines[0] ?? '', new RegExp(`hostname is ${tag}-web`));
    } finally {
      ssh(nodeIps[0], `docker rm -f ${tag}-flask ${tag}-redis >/dev/null 2>&1; docker network rm ${tag} >/dev/null 2>&1; true`);
    }
  });
});

describe('lab command without root', { skip }, () => {
  it('exits 2 and points to the nodes file / own machines', (t) => {
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    if (sh('setpriv', [...asNobody, 'test', '-r', `${repoRoot}/dist/cli.js`]).code !== 0) {
      t.skip('user nobody cannot read this checkout');
      return;
    }
    const r = sh('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, `${repoRoot}/bin/docker-net-lab.js`, 'lab', 'up']);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /needs root/);
    assert.match(r.err, /--nodes FILE/);
  });
});
