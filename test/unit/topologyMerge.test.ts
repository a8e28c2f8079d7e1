import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { splitJsonStream, stripPrefix, toEngineContainer, toEngineEvent, toEngineNetwork } from '../../src/core/docker/dockerRecords';
import { formatTopologyTree, topologyToJson } from '../../src/core/topology/topologyFormat';
import { mergeTopology } from '../../src/core/topology/topologyMerge';
import { isTopologyEvent } from '../../src/core/topology/topologyService';
import { firstBridgeIp } from './fixtures/bridgeAddresses.fixture';

const dir = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'docker');
const load = (f: string): unknown[] => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown[];
const overlayId = '4f1c2a9e8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e';

function facts() {
  return [
    { name: 'docker-node1', host: '10.99.0.11', state: 'online' as const, networks: load('node1-networks.json').map(toEngineNetwork), containers: load('node1-containers.json').map(toEngineContainer) },
    { name: 'docker-node2', host: '10.99.0.12', state: 'online' as const, networks: load('node2-networks.json').map(toEngineNetwork), containers: load('node2-containers.json').map(toEngineContainer) },
  ];
}

describe('docker records', () => {
  it('normalises networks (subnet, gateway, scope)', () => {
    const nets = load('node1-networks.json').map(toEngineNetwork);
    const ov = nets.find((n) => n.name === 'my-overlay')!;
    assert.deepEqual(ov, { id: overlayId, name: 'my-overlay', driver: 'overlay', scope: 'global', subnets: ['10.0.0.0/24'], gateways: ['10.0.0.1'], internal: false, attachable: false });
    assert.deepEqual(nets.find((n) => n.name === 'host')!.subnets, []);
  });

  it('normalises containers: name without slash, addresses without prefix, ports', () => {
    const cts = load('node2-containers.json').map(toEngineContainer);
    const web = cts.find((c) => c.name === 'web')!;
    assert.deepEqual(web.ports, ['0.0.0.0:5000->5000/tcp', '[::]:5000->5000/tcp']);
    const test2 = cts.find((c) => c.name === 'test2')!;
    assert.deepEqual(test2.networks['my-overlay'], { networkId: overlayId, ipv4: '10.0.0.3', mac: '02:42:0a:00:00:03' });
    assert.equal(stripPrefix('10.0.0.3/24'), '10.0.0.3');
    assert.equal(toEngineContainer({ Names: ['/x'], NetworkSettings: { Networks: { n: { IPAddress: '10.1.0.2/16', NetworkID: 'i' } } } }).networks['n']!.ipv4, '10.1.0.2');
    // the fixture's redis is linked into "old" (--link redis:redis-alias): Names lists "/old/redis-alias" first
    const redis = load('node1-containers.json').map(toEngineContainer).find((c) => c.name === 'redis')!;
    assert.deepEqual(redis.ports, ['6379/tcp']);
  });

  it('parses a chunked event stream', () => {
    const text = fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8');
    const a = splitJsonStream(text.slice(0, 50));
    assert.equal(a.values.length, 0);
    const b = splitJsonStream(a.rest + text.slice(50));
    assert.equal(b.values.length, 2);
    assert.equal(b.rest, '');
    const [start, connect] = b.values.map(toEngineEvent);
    assert.deepEqual({ type: start!.type, action: start!.action, name: start!.attributes['name'], t: start!.timeMs }, { type: 'container', action: 'start', name: 'test2', t: 1764092460123 });
    assert.equal(connect!.id, overlayId);
    assert.ok(isTopologyEvent(start!) && isTopologyEvent(connect!));
    assert.ok(!isTopologyEvent({ type: 'container', action: 'exec_start: sh', id: 'x', attributes: {}, timeMs: 0 }));
    assert.ok(!isTopologyEvent({ type: 'image', action: 'pull', id: 'x', attributes: {}, timeMs: 0 }));
  });
});

describe('topology merge', () => {
  it('merges the overlay once with members from both nodes; keeps local bridges apart', () => {
    const snap = mergeTopology(facts(), 42);
    assert.equal(snap.takenAt, 42);
    assert.deepEqual(snap.multiHostNetworks.map((n) => n.name), ['my-overlay']);
    const ov = snap.multiHostNetworks[0]!;
    assert.deepEqual(ov.nodes, ['docker-node1', 'docker-node2']);
    assert.deepEqual(ov.members.map((m) => [m.name, m.node, m.ipv4]), [['test1', 'docker-node1', '10.0.0.2'], ['test2', 'docker-node2', '10.0.0.3']]);
    assert.deepEqual(ov.subnets, ['10.0.0.0/24']);
    // bridges have different ids on each node: never merged
    const n1 = snap.nodes[0]!;
    const bridge1 = n1.networks.find((n) => n.name === 'bridge')!;
    assert.deepEqual(bridge1.nodes, ['docker-node1']);
    // 'old' (exited) still carries the id the bridge had before dockerd restarted: matched by name
    assert.deepEqual(bridge1.members.map((m) => [m.name, m.ipv4, m.state]), [['old', '', 'exited'], ['redis', firstBridgeIp, 'running']]);
    // the node's own view of the overlay holds only its own members
    assert.deepEqual(n1.networks.find((n) => n.name === 'my-overlay')!.members.map((m) => m.name), ['test1']);
  });

  it('keeps an offline node with its error and last known data', () => {
    const f = facts();
    const offline = { ...f[1]!, state: 'offline' as const, error: { code: 'Unreachable', message: 'Cannot reach docker-node2 at 10.99.0.12:22: connection refused.' } };
    const snap = mergeTopology([f[0]!, offline], 1);
    assert.equal(snap.nodes.length, 2);
    assert.equal(snap.nodes[1]!.state, 'offline');
    assert.equal(snap.nodes[1]!.error!.code, 'Unreachable');
    const bare = mergeTopology([f[0]!, { name: 'docker-node2', host: '10.99.0.12', state: 'error' }], 1);
    assert.deepEqual(bare.nodes[1]!.networks, []);
    // a global-scope network seen on one node only is still a multi-host network
    assert.deepEqual(bare.multiHostNetworks.map((n) => [n.name, n.nodes]), [['my-overlay', ['docker-node1']]]);
  });

  it('formats tree --json with the documented shape', () => {
    const doc = topologyToJson(mergeTopology(facts(), 1));
    const node2 = doc.nodes[1]!;
    assert.equal(node2.name, 'docker-node2');
    const ov = node2.networks.find((n) => n.name === 'my-overlay')!;
    assert.deepEqual({ id: ov.id, driver: ov.driver, scope: ov.scope, subnet: ov.subnet }, { id: overlayId, driver: 'overlay', scope: 'global', subnet: '10.0.0.0/24' });
    assert.deepEqual(ov.containers.map((c) => ({ name: c.name, ipv4: c.ipv4, mac: c.mac, node: c.node })), [{ name: 'test2', ipv4: '10.0.0.3', mac: '02:42:0a:00:00:03', node: 'docker-node2' }]);
    assert.equal(node2.containers.length, 2);
    assert.equal(doc.multiHostNetworks[0]!.containers.length, 2);
    assert.equal(node2.networks.find((n) => n.name === 'host')!.subnet, '');
    const text = formatTopologyTree(mergeTopology(facts(), 1));
    assert.match(text, /^docker-node1 \(10\.99\.0\.11\) online/m);
    assert.match(text, /^ {2}my-overlay on docker-node1 \+ docker-node2/m);
    assert.match(text, /- test2 {2}10\.0\.0\.3 {2}02:42:0a:00:00:03 {2}@docker-node2/);
    assert.match(text, /- old {2}\(no address\) {2}\[exited\]/);
  });
});
