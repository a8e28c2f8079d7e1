import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { gatherNodeFacts, nodeFactsScript, parseFirewall, parseNodeFacts } from '../../src/core/diagnostics/nodeFacts';
import type { NodeFacts } from '../../src/core/diagnostics/nodeFacts';
import { checkClusterStoreOnModernDocker, checkEtcdV2, checkFirewall, checkHostnames, checkKernel, checkLabState, checkMtu, runStateChecks } from '../../src/core/diagnostics/stateChecks';
import { LabError } from '../../src/core/errors';
import type { ShellProvider } from '../../src/core/remoteShell';
import type { ExecOptions, ExecResult, RemoteShell } from '../../src/core/remoteShell';
import { bridgeBroadcast, bridgeGateway } from './fixtures/bridgeAddresses.fixture';

const legacy: NodeFacts = { name: 'docker-node1', address: '10.99.0.11', dockerVersion: '20.10.24+dfsg1', dockerdArgs: ['-H', 'tcp://0.0.0.0:2375', '--cluster-store=etcd://10.99.0.11:2379', '--cluster-advertise=10.99.0.11:2375'], etcdVersion: '3.4.23', etcdV2Enabled: true, kernel: '6.1.0-27-amd64', hostname: 'docker-node1', mtu: 1500 };

const sample = [
  '@@dnl:docker', '26.1.5+dfsg1',
  '@@dnl:dockerd', '/usr/sbin/dockerd -H unix:///var/run/docker.sock --cluster-store=etcd://10.99.0.12:2379',
  '@@dnl:daemonjson', '{ "cluster-advertise": "10.99.0.12:2375" }',
  '@@dnl:etcd', 'etcd Version: 3.5.16',
  '@@dnl:etcdargs', 'etcd --name docker-node2 --listen-client-urls http://10.99.0.12:2379',
  '@@dnl:etcdv2', '404',
  '@@dnl:kernel', '3.10.0-1160.el7.x86_64',
  '@@dnl:hostname', 'localhost.localdomain',
  '@@dnl:firewalld', 'running',
  '@@dnl:fwports', '2379-2380/tcp 7946/tcp',
  '@@dnl:iptables', '-P INPUT ACCEPT',
  '@@dnl:addr', '1: lo    inet 127.0.0.1/8 scope host lo', `2: docker0    inet ${bridgeGateway}/16 brd ${bridgeBroadcast} scope global docker0`, '5: eth0    inet 10.99.0.12/24 brd 10.99.0.255 scope global eth0',
  '@@dnl:link', '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN', '5: eth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP',
  '@@dnl:os', 'CentOS Linux 7 (Core)',
].join('\n');

describe('diagnostics state checks', () => {
  it('a healthy legacy node has no finding', () => {
    assert.deepEqual(runStateChecks([legacy, { ...legacy, name: 'docker-node2', address: '10.99.0.12', hostname: 'docker-node2' }]), []);
  });

  it('Docker ≥ 23 with cluster store flags (args or daemon.json) is an error; 20.10 is not', () => {
    assert.equal(checkClusterStoreOnModernDocker({ ...legacy, dockerVersion: '26.1.5' })[0]?.ruleId, 'state-cluster-store-on-modern-docker');
    assert.equal(checkClusterStoreOnModernDocker({ name: 'n', dockerVersion: '23.0.0', daemonJson: { 'cluster-store': 'etcd://x:2379' } }).length, 1);
    assert.deepEqual(checkClusterStoreOnModernDocker(legacy), []);
    assert.deepEqual(checkClusterStoreOnModernDocker({ ...legacy, dockerVersion: '26.1.5', dockerdArgs: ['-H', 'fd://'] }), []);
  });

  it('etcd without v2 (or 3.6) while dockerd uses the cluster store is an error', () => {
    assert.equal(checkEtcdV2({ ...legacy, etcdV2Enabled: false })[0]?.ruleId, 'state-etcd-v2-disabled');
    assert.equal(checkEtcdV2({ ...legacy, etcdVersion: '3.6.1' }).length, 1);
    assert.deepEqual(checkEtcdV2(legacy), []);
    assert.deepEqual(checkEtcdV2({ ...legacy, etcdV2Enabled: false, dockerdArgs: [] }), [], 'no cluster store: v2 not needed');
  });

  it('kernels older than 3.16 are too old for overlays; CentOS 7 gets its own explanation', () => {
    const el7 = checkKernel({ name: 'n', kernel: '3.10.0-1160.el7.x86_64' });
    assert.equal(el7[0]?.ruleId, 'state-kernel-too-old-for-overlay');
    assert.match(el7[0]?.cause ?? '', /CentOS 7/);
    assert.equal(checkKernel({ name: 'n', kernel: '3.13.0-170-generic' }).length, 1);
    assert.deepEqual(checkKernel({ name: 'n', kernel: '3.16.0-4-amd64' }), []);
    assert.deepEqual(checkKernel({ name: 'n', kernel: '6.1.0-27-amd64' }), []);
  });

  it('two nodes with the same hostname are reported once, for the second node', () => {
    const f = checkHostnames([{ name: 'a', hostname: 'localhost.localdomain' }, { name: 'b', hostname: 'localhost.localdomain' }]);
    assert.equal(f.length, 1);
    assert.equal(f[0]?.facts['node'], 'b');
    assert.match(f[0]?.fix ?? '', /hostnamectl set-hostname b/);
    assert.deepEqual(checkHostnames([{ name: 'a', hostname: 'docker-node1' }, { name: 'b', hostname: 'docker-node2' }]), []);
  });

  it('firewall: firewalld blocks every lab port it does not list; iptables DROP/REJECT rules and DROP policy', () => {
    assert.deepEqual(parseFirewall('running', '2379-2380/tcp 7946/tcp', '').blockedPorts, ['2375/tcp', '2377/tcp', '7946/udp', '4789/udp']);
    assert.deepEqual(parseFirewall('not running', '', '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 2379 -j REJECT --reject-with icmp-host-prohibited\n-A INPUT -p udp --dport 4789 -j DROP').blockedPorts, ['2379/tcp', '4789/udp']);
    assert.deepEqual(parseFirewall('', '', '-P INPUT DROP\n-A INPUT -p tcp --dport 2375:2380 -j ACCEPT').blockedPorts, ['7946/tcp', '7946/udp', '4789/udp']);
    assert.deepEqual(parseFirewall('', '', '-P INPUT ACCEPT').blockedPorts, []);
    const f = checkFirewall({ name: 'n', firewall: { kind: 'firewalld', blockedPorts: ['2379/tcp', '4789/udp'] } });
    assert.match(f[0]?.fix ?? '', /firewall-cmd --permanent --add-port=2379\/tcp/);
    assert.match(f[0]?.title ?? '', /2379\/tcp, 4789\/udp/);
  });

  it('underlay MTU below 1500 suggests the overlay MTU', () => {
    const f = checkMtu({ name: 'n', mtu: 1450, underlayInterface: 'eth0' });
    assert.match(f[0]?.fix ?? '', /com\.docker\.network\.driver\.mtu=1400 my-overlay/);
    assert.deepEqual(checkMtu({ name: 'n', mtu: 1500 }), []);
  });

  it('parses the facts script output, and every check fires on such a node', () => {
    const facts = parseNodeFacts('docker-node2', sample, '10.99.0.12');
    assert.equal(facts.dockerVersion, '26.1.5+dfsg1');
    assert.equal(facts.etcdVersion, '3.5.16');
    assert.equal(facts.etcdV2Enabled, false);
    assert.equal(facts.mtu, 1450);
    assert.equal(facts.underlayInterface, 'eth0');
    assert.equal(facts.firewall?.kind, 'firewalld');
    assert.deepEqual(facts.daemonJson, { 'cluster-advertise': '10.99.0.12:2375' });
    const ids = runStateChecks([{ ...facts, name: 'docker-node1' }, facts]).map((f) => f.ruleId).sort();
    assert.deepEqual([...new Set(ids)], ['state-cluster-store-on-modern-docker', 'state-duplicate-hostname', 'state-etcd-v2-disabled', 'state-firewall-blocks-lab-ports', 'state-kernel-too-old-for-overlay', 'state-underlay-mtu-low']);
  });

  it('keeps sections apart when one lacks a final newline, and picks the process line naming the node address', () => {
    const out = '@@dnl:etcdv2\n200@@dnl:kernel\n6.1.0-27-amd64\n@@dnl:dockerd\ndockerd --cluster-advertise=10.99.0.11:2375\ndockerd --cluster-advertise=10.99.0.12:2375\n';
    const facts = parseNodeFacts('docker-node2', out, '10.99.0.12');
    assert.equal(facts.etcdV2Enabled, true);
    assert.equal(facts.kernel, '6.1.0-27-amd64');
    assert.deepEqual(facts.dockerdArgs, ['--cluster-advertise=10.99.0.12:2375']);
  });

  it('gathers facts through a RemoteShell with one command', async () => {
    const calls: string[] = [];
    const shell: RemoteShell = {
      node: 'docker-node2',
      exec(command: string, options?: ExecOptions): Promise<ExecResult> {
        calls.push(command);
        assert.equal(options?.sudo, true);
        return Promise.resolve({ code: 0, stdout: sample, stderr: '' });
      },
    };
    const facts = await gatherNodeFacts(shell, '10.99.0.12');
    assert.deepEqual(calls, [nodeFactsScript]);
    assert.equal(facts.name, 'docker-node2');
    assert.equal(facts.hostname, 'localhost.localdomain');
  });
});

describe('diagnostics state check steps', () => {
  it('state findings name lab steps', () => {
    const f = runStateChecks([{ name: 'a', hostname: 'x', mtu: 1400, firewall: { kind: 'firewalld', blockedPorts: ['2379/tcp'] } }, { name: 'b', hostname: 'x' }]);
    assert.deepEqual(f.map((x) => x.step).sort(), ['ch4-create-overlay', 'ch4-firewall', 'ch4-hostnames']);
  });
});

describe('checkLabState', () => {
  it('asks every node, reports an unreachable one instead of failing, and checks the others', async () => {
    const provider: ShellProvider = {
      nodeNames: () => ['docker-node1', 'docker-node2'],
      shell: (node: string) => (node === 'docker-node1'
        ? Promise.reject(new LabError('Unreachable', 'Cannot reach docker-node1.'))
        : Promise.resolve<RemoteShell>({ node, exec: () => Promise.resolve({ code: 0, stdout: sample, stderr: '' }) })),
    };
    const result = await checkLabState(provider, (n) => (n === 'docker-node2' ? '10.99.0.12' : undefined));
    assert.deepEqual(result.nodes.map((n) => [n.node, n.error?.code ?? 'ok']), [['docker-node1', 'Unreachable'], ['docker-node2', 'ok']]);
    assert.ok(result.findings.some((f) => f.ruleId === 'state-cluster-store-on-modern-docker' && f.facts['node'] === 'docker-node2'));
    assert.ok(!result.findings.some((f) => f.ruleId === 'state-duplicate-hostname'), 'one node answered: no pair to compare');
  });

  it('a cancelled check rejects with Cancelled', async () => {
    const provider: ShellProvider = { nodeNames: () => ['a'], shell: () => Promise.reject(new LabError('Cancelled', 'The operation was cancelled.')) };
    await assert.rejects(checkLabState(provider, () => undefined), (e: unknown) => e instanceof LabError && e.code === 'Cancelled');
  });
});
