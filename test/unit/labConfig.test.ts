import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import { formatNodesFile, parseNodesFile } from '../../src/core/nodes/nodesFile';
import {
  anchorScript, aptMirrorFromSources, buildLabNodesFile, cgroupMountLines, dockerdBaseArgs, etcdArgs, hostKeyFingerprint,
  hostsFile, knownHostsText, labDockerdScript, modeFlags, modeFromFlagsText, parseFlagsFile, parseLabArgs, sshdConfig,
} from '../../lab/labConfig';
import { labNodes, labPaths, nodePaths } from '../../lab/labLayout';

const env = { DOCKER_NET_LAB_HOME: '/var/lib/docker-net-lab', DOCKER_NET_LAB_CACHE: '/var/cache/docker-net-lab' };
const paths = labPaths(env);
const node1 = labNodes[0]!;
const node2 = labNodes[1]!;

describe('parseLabArgs', () => {
  it('reads up with and without --mode', () => {
    assert.deepEqual(parseLabArgs(['up']), { action: 'up', mode: 'cluster', modeGiven: false });
    assert.deepEqual(parseLabArgs(['up', '--mode', 'swarm']), { action: 'up', mode: 'swarm', modeGiven: true });
    assert.deepEqual(parseLabArgs(['up', '--mode=plain']), { action: 'up', mode: 'plain', modeGiven: true });
  });
  it('reads down --purge and status --json', () => {
    assert.deepEqual(parseLabArgs(['down']), { action: 'down', purge: false });
    assert.deepEqual(parseLabArgs(['down', '--purge']), { action: 'down', purge: true });
    assert.deepEqual(parseLabArgs(['status', '--json']), { action: 'status', json: true });
  });
  it('rejects unknown actions, options and modes with InvalidInput', () => {
    for (const bad of [[], ['start'], ['up', '--mode', 'kubernetes'], ['down', '--force'], ['status', 'extra'], ['up', '--purge']]) {
      assert.throws(() => parseLabArgs(bad), (e: unknown) => isLabError(e, 'InvalidInput'), bad.join(' '));
    }
  });
});

describe('node configuration', () => {
  const np = nodePaths(paths, node1);
  it('etcd: the tutorial static cluster with --enable-v2', () => {
    const a = etcdArgs(node1, np);
    assert.ok(a.includes('--enable-v2'));
    assert.equal(a[a.indexOf('--initial-cluster') + 1], 'docker-node1=http://10.99.0.11:2380,docker-node2=http://10.99.0.12:2380');
    assert.equal(a[a.indexOf('--listen-client-urls') + 1], 'http://10.99.0.11:2379,http://127.0.0.1:2379');
    assert.equal(a[a.indexOf('--data-dir') + 1], '/var/lib/docker-net-lab/nodes/docker-node1/etcd');
  });
  it('dockerd: tcp 2375 without TLS delay, unix socket, pidfile in the state dir, cluster flags per mode', () => {
    const b = dockerdBaseArgs(node2, nodePaths(paths, node2));
    assert.ok(b.includes('--tls=false'));
    assert.ok(b.includes('tcp://0.0.0.0:2375') && b.includes('unix:///var/run/docker.sock'));
    assert.equal(b[b.indexOf('--pidfile') + 1], '/var/lib/docker-net-lab/nodes/docker-node2/run/dockerd.pid');
    assert.deepEqual(modeFlags('cluster', node2), ['--cluster-store=etcd://10.99.0.12:2379', '--cluster-advertise=10.99.0.12:2375']);
    assert.deepEqual(modeFlags('swarm', node2), []);
    assert.deepEqual(modeFlags('plain', node2), []);
  });
  it('flags file round trip and mode inference', () => {
    assert.deepEqual(parseFlagsFile('# saved\n--cluster-store=etcd://10.99.0.11:2379\n\n--debug\n'), ['--cluster-store=etcd://10.99.0.11:2379', '--debug']);
    assert.equal(modeFromFlagsText(`# mode: cluster\n${modeFlags('cluster', node1).join('\n')}\n`), 'cluster');
    assert.equal(modeFromFlagsText('# mode: swarm\n'), 'swarm');
    assert.equal(modeFromFlagsText('--debug\n'), 'plain');
    assert.equal(modeFromFlagsText(''), 'plain');
  });
  it('sshd: key only, no passwords, host key and pidfile in the node dir', () => {
    const c = sshdConfig(node1, np);
    assert.match(c, /^PasswordAuthentication no$/m);
    assert.match(c, /^KbdInteractiveAuthentication no$/m);
    assert.match(c, /^PermitRootLogin prohibit-password$/m);
    assert.match(c, /^HostKey \/var\/lib\/docker-net-lab\/nodes\/docker-node1\/ssh\/ssh_host_ed25519_key$/m);
    assert.match(c, /^ListenAddress 10\.99\.0\.11:22$/m);
  });
  it('hosts file names both nodes', () => {
    assert.match(hostsFile(), /^10\.99\.0\.11\tdocker-node1$/m);
    assert.match(hostsFile(), /^10\.99\.0\.12\tdocker-node2$/m);
  });
  it('generated scripts are valid shell', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labcfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.sh'), anchorScript());
      fs.writeFileSync(path.join(dir, 'd.sh'), labDockerdScript(node1, np));
      execFileSync('sh', ['-n', path.join(dir, 'a.sh')]);
      execFileSync('bash', ['-n', path.join(dir, 'd.sh')]);
      assert.match(labDockerdScript(node1, np), /--cluster-store=etcd:\/\/10\.99\.0\.11:2379/);
      assert.match(labDockerdScript(node1, np), /--cgroup-parent=\/docker-node1/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('keeps only cgroup mounts', () => {
    const mounts = [
      '/dev/vda / ext4 rw,relatime 0 0',
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
      'proc /proc proc rw 0 0',
    ].join('\n');
    assert.equal(cgroupMountLines(mounts),
      'tmpfs /sys/fs/cgroup rw,relatime,mode=755\ncgroup /sys/fs/cgroup/memory rw,relatime,memory\ncgroup2 /sys/fs/cgroup/unified rw,relatime\n');
    assert.equal(cgroupMountLines('/dev/vda / ext4 rw 0 0\n'), '');
  });
  it('finds the Debian mirror in deb822 and one-line apt sources', () => {
    const deb822 = 'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n';
    assert.equal(aptMirrorFromSources([deb822]), 'http://mirror.example/debian');
    assert.equal(aptMirrorFromSources(['deb [arch=amd64] https://ftp.example/debian bookworm main']), 'https://ftp.example/debian');
    assert.equal(aptMirrorFromSources(['deb https://packages.example/apt cloud main']), undefined);
  });
});

describe('nodes file and host keys', () => {
  it('fingerprints a public key exactly like ssh-keygen -l', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labkey-'));
    try {
      const key = path.join(dir, 'k');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const expected = execFileSync('ssh-keygen', ['-l', '-f', `${key}.pub`]).toString().split(' ')[1];
      assert.equal(hostKeyFingerprint(fs.readFileSync(`${key}.pub`, 'utf8')), expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => hostKeyFingerprint('garbage'), (e: unknown) => isLabError(e, 'InvalidInput'));
  });
  it('writes known_hosts lines with name and address', () => {
    const line = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbQ4gI3 root@docker-node1\n';
    assert.equal(knownHostsText([{ node: node1, publicKeyLine: line }]), 'docker-node1,10.99.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbQ4gI3\n');
  });
  it('builds a nodes file that the project reader accepts', () => {
    const fp = ['SHA256:d2+uyy9OZ/oAEP9JDW/vGJP9f3mXIv1mDk98+LsfvAQ', 'SHA256:pyAlzsREu9xkRGp4vwhZRsGuIzoR8B1GdHeMkI6w/Eo'];
    const file = buildLabNodesFile(paths, fp, { mode: 'cluster', dockerVersion: '20.10.24', etcdVersion: '3.4.23' });
    const back = parseNodesFile(formatNodesFile(file), 'nodes.json');
    assert.equal(back.source, 'local-lab');
    assert.deepEqual(back.nodes.map((n) => [n.name, n.host, n.port, n.user, n.auth, n.keyFile]), [
      ['docker-node1', '10.99.0.11', 22, 'root', 'key', '/var/lib/docker-net-lab/ssh/id_ed25519'],
      ['docker-node2', '10.99.0.12', 22, 'root', 'key', '/var/lib/docker-net-lab/ssh/id_ed25519'],
    ]);
    assert.deepEqual(back.nodes[1]!.hostKeyFingerprints, [fp[1]]);
    assert.deepEqual(back.nodes[0]!.docker, { transport: 'ssh', tcpPort: 2375 });
    assert.equal(back.lab?.['mode'], 'cluster');
    assert.equal(back.lab?.['etcdVersion'], '3.4.23');
  });
});
