import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import { etcdApiOf, majorVersion, parseFacts } from '../../src/core/lab/labFacts';
import { decideOverlayPath } from '../../src/core/lab/overlayPathDecision';
import { bridgeGateway } from './fixtures/bridgeAddresses.fixture';

describe('lab node facts', () => {
  const out = ['hostname=docker-node1', 'docker=20.10.24+dfsg1', 'etcd=3.4.23', 'kernel=6.1.0-28-amd64', 'labDockerd=yes', 'firewall=none',
    'swarm=inactive', 'clusterStore=etcd://10.99.0.11:2379', `ips=10.99.0.11 ${bridgeGateway} `, '--- os-release',
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', 'ID=debian', 'VERSION_ID="12"'].join('\n');
  it('parses the facts command output', () => {
    const f = parseFacts('docker-node1', 'node1.example', out);
    assert.equal(f.ip, '10.99.0.11');
    assert.equal(f.hostname, 'docker-node1');
    assert.equal(f.dockerVersion, '20.10.24+dfsg1');
    assert.equal(f.labDockerd, true);
    assert.equal(f.firewall, 'none');
    assert.equal(f.clusterStore, 'etcd://10.99.0.11:2379');
    assert.equal(f.osRelease['ID'], 'debian');
    assert.equal(f.osRelease['PRETTY_NAME'], 'Debian GNU/Linux 12 (bookworm)');
  });
  it('prefers the configured IPv4 host, and fails without any address', () => {
    assert.equal(parseFacts('n', '10.99.0.12', out).ip, '10.99.0.12');
    assert.throws(() => parseFacts('n', 'host.example', 'hostname=x\nips=\n'), (e) => isLabError(e, 'CommandFailed'));
  });
  it('maps versions to the etcd API and the overlay path', () => {
    assert.equal(majorVersion('20.10.24'), 20);
    assert.equal(etcdApiOf('3.4.23'), 'v2');
    assert.equal(etcdApiOf('3.5.16'), 'v2');
    assert.equal(etcdApiOf('3.6.0'), 'v3');
    const path = (v: string): string => decideOverlayPath({ nodes: [{ name: 'n', dockerVersion: v }], clusterStoreMaxDockerMajor: 22 }).path;
    assert.equal(path('20.10.24'), 'cluster-store');
    assert.equal(path('22.06.0'), 'cluster-store');
    assert.equal(path('23.0.0'), 'swarm');
    assert.equal(path(''), 'swarm');
  });
});
