import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseFacts } from '../../src/core/lab/labFacts';
import { clusterStoreRefusal, overlayPathForNodes } from '../../src/core/lab/stepRunner';

// The overlay path on today's Docker: the cluster store exists only up to Docker 22, on every node.

function node(name: string, ip: string, docker: string): ReturnType<typeof parseFacts> {
  return parseFacts(name, ip, [`hostname=${name}`, `docker=${docker}`, 'etcd=3.5.16', 'kernel=6.1.0', 'labDockerd=yes', 'firewall=none',
    'swarm=inactive', 'clusterStore=', `ips=${ip}`, '--- os-release', 'ID=debian'].join('\n'));
}

describe('overlay path from both nodes\' Docker versions', () => {
  it('takes the cluster store only when every node runs Docker 22 or older', () => {
    assert.equal(overlayPathForNodes(['20.10.24+dfsg1', '20.10.24+dfsg1'], 22), 'cluster-store');
    assert.equal(overlayPathForNodes(['26.1.5+dfsg1', '26.1.5+dfsg1'], 22), 'swarm');
    assert.equal(overlayPathForNodes(['20.10.24+dfsg1', '26.1.5+dfsg1'], 22), 'swarm', 'mixed: node2 has no cluster store');
    assert.equal(overlayPathForNodes(['26.1.5', '20.10.24'], 22), 'swarm');
    assert.equal(overlayPathForNodes(['20.10.24', ''], 22), 'swarm', 'an unknown version is not assumed old');
    assert.equal(overlayPathForNodes([], 22), 'swarm');
  });

  it('refuses a chosen cluster-store path on Docker 23+ and names the node and version', () => {
    const modern = [node('docker-node1', '10.99.0.11', '26.1.5+dfsg1'), node('docker-node2', '10.99.0.12', '26.1.5+dfsg1')];
    const why = clusterStoreRefusal({ nodes: modern, overlayPath: 'cluster-store', overlayPathSource: 'choice' }, 22);
    assert.match(why ?? '', /needs Docker 22 or older on every node, but docker-node1 runs Docker 26\.1\.5\+dfsg1/);
    assert.equal(clusterStoreRefusal({ nodes: modern, overlayPath: 'swarm', overlayPathSource: 'docker-version' }, 22), undefined);
    const mixed = [node('docker-node1', '10.99.0.11', '20.10.24+dfsg1'), node('docker-node2', '10.99.0.12', '26.1.5+dfsg1')];
    assert.match(clusterStoreRefusal({ nodes: mixed, overlayPath: 'cluster-store', overlayPathSource: 'choice' }, 22) ?? '', /docker-node2 runs Docker 26/);
    const legacy = [node('docker-node1', '10.99.0.11', '20.10.24'), node('docker-node2', '10.99.0.12', '')];
    assert.equal(clusterStoreRefusal({ nodes: legacy, overlayPath: 'cluster-store', overlayPathSource: 'choice' }, 22), undefined, 'a node whose dockerd is down is not refused');
  });
});
