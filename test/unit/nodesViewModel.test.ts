import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ContainerRecord, NetworkRecord, NodeRecord, TopologySnapshot } from '../../src/core/topology/topologyTypes';
import { nodeCommandIds } from '../../src/vscode/nodes/nodeCommandIds';
import type { NodesElement, NodesViewState } from '../../src/vscode/nodes/nodesViewModel';
import { bridgeSubnet, firstBridgeIp, secondBridgeIp } from './fixtures/bridgeAddresses.fixture';
import {
  changedNodes, childrenOf, connectionErrorView, containerDescription, containerTooltip, elementId, parentOf, presentationOf, statusSummary,
} from '../../src/vscode/nodes/nodesViewModel';

const overlayId = 'f'.repeat(64);

function container(node: string, name: string, ip: string, over?: string): ContainerRecord {
  const networks: Record<string, { ipv4: string; mac: string; networkId: string }> = { bridge: { ipv4: ip, mac: '02:42:ac:11:00:02', networkId: `br-${node}` } };
  if (over !== undefined) { networks['my-overlay'] = { ipv4: over, mac: '02:42:0a:00:09:02', networkId: overlayId }; }
  return { id: `${name}-id-0123456789`, name, node, image: 'busybox', state: 'running', status: 'Up 2 seconds', ports: name === 'web' ? ['0.0.0.0:5000->5000/tcp'] : [], networks };
}

function overlay(nodes: string[], members: ContainerRecord[]): NetworkRecord {
  return {
    id: overlayId, name: 'my-overlay', driver: 'overlay', scope: 'global', subnets: ['10.0.9.0/24'], gateways: ['10.0.9.1'], nodes,
    members: members.map((c) => ({ containerId: c.id, name: c.name, node: c.node, ipv4: c.networks['my-overlay']?.ipv4 ?? '', mac: '', state: c.state })),
  };
}

function node(name: string, containers: ContainerRecord[], extra: Partial<NodeRecord> = {}): NodeRecord {
  const bridge: NetworkRecord = { id: `br-${name}`, name: 'bridge', driver: 'bridge', scope: 'local', subnets: [bridgeSubnet], gateways: [], nodes: [name],
    members: containers.map((c) => ({ containerId: c.id, name: c.name, node: name, ipv4: c.networks['bridge']?.ipv4 ?? '', mac: '', state: c.state })) };
  return { name, host: name === 'n1' ? 'h1' : 'h2', state: 'online', dockerVersion: '20.10.24', networks: [bridge, overlay([name], containers.filter((c) => c.networks['my-overlay'] !== undefined))], containers, ...extra };
}

function state(snapshot: TopologySnapshot, over: Partial<NodesViewState> = {}): NodesViewState {
  return { trusted: true, problems: [], snapshot, labNodes: new Set(['n1']), ...over };
}

const t1 = container('n1', 'test1', firstBridgeIp, '10.0.9.2');
const t2 = container('n2', 'test2', firstBridgeIp, '10.0.9.3');
const snap: TopologySnapshot = { takenAt: 1, nodes: [node('n1', [t1]), node('n2', [t2])], multiHostNetworks: [overlay(['n1', 'n2'], [t1, t2])] };

describe('nodes view model', () => {
  it('lists both nodes and the multi-host group at the root', () => {
    const kids = childrenOf(state(snap));
    assert.deepEqual(kids.map(elementId), ['node/n1', 'node/n2', 'multihost']);
  });
  it('shows an overlay once, with members from both nodes labelled by node', () => {
    const s = state(snap);
    const nets = childrenOf(s, { kind: 'multiHostGroup' });
    assert.equal(nets.length, 1);
    const members = childrenOf(s, nets[0]);
    assert.deepEqual(members.map((m) => presentationOf(s, m)?.description), ['n1 · 10.0.9.2', 'n2 · 10.0.9.3']);
    const underNode = childrenOf(s, { kind: 'networks', node: 'n2' }).find((e) => e.kind === 'network' && e.networkId === overlayId)!;
    assert.equal(childrenOf(s, underNode).length, 0, 'per-node overlay entry is a marked leaf');
    const view = presentationOf(s, underNode)!;
    assert.equal(view.contextValue, 'network.multiHost');
    assert.match(view.description ?? '', /overlay · global · 10\.0\.9\.0\/24 · multi-host: n1, n2/);
  });
  it('renders node, container and network descriptions from the records', () => {
    const s = state(snap);
    assert.equal(presentationOf(s, { kind: 'node', node: 'n1' })?.description, 'h1 · Docker 20.10.24');
    assert.equal(presentationOf(s, { kind: 'node', node: 'n1' })?.contextValue, 'node.connected.lab');
    assert.equal(presentationOf(s, { kind: 'node', node: 'n2' })?.contextValue, 'node.connected.user');
    const web = container('n1', 'web', secondBridgeIp);
    assert.equal(containerDescription(web), `${secondBridgeIp} · 0.0.0.0:5000->5000/tcp`);
    assert.match(containerTooltip(t1), /02:42:0a:00:09:02/);
    assert.match(containerTooltip(t1), /busybox/);
    const kids = childrenOf(s, { kind: 'containers', node: 'n2' });
    assert.deepEqual(kids.map((k) => presentationOf(s, k)?.label), ['test2']);
    assert.equal(presentationOf(s, kids[0]!)?.icon.id, 'play-circle');
  });
  it('puts a connection error under its node with a fix command, not the networks', () => {
    const bad: TopologySnapshot = { ...snap, nodes: [snap.nodes[0]!, { name: 'n2', host: 'h2', state: 'error', networks: [], containers: [], error: { code: 'HostKeyChanged', message: 'The host key changed.' } }] };
    const s = state(bad);
    const kids = childrenOf(s, { kind: 'node', node: 'n2' });
    assert.deepEqual(kids.map((k) => k.kind), ['nodeError']);
    const v = presentationOf(s, kids[0]!)!;
    assert.equal(v.label, 'Host key changed — Show fix');
    assert.equal(v.command?.id, nodeCommandIds.nodeShowHostKeyFix);
    assert.deepEqual(v.command?.args, ['n2']);
    assert.equal(connectionErrorView('n', 'AuthFailed').commandId, nodeCommandIds.nodeEdit);
    assert.equal(connectionErrorView('n', 'Unreachable').label, 'Unreachable — Retry');
  });
  it('shows no rows when the workspace is not trusted (the view\'s welcome content says what to do)', () => {
    const s = state(snap, { trusted: false, problems: [{ source: 'dockerNetLab.nodes', index: 0, field: 'port', message: 'x' }] });
    assert.deepEqual(childrenOf(s), []);
    assert.deepEqual(childrenOf(s, { kind: 'node', node: 'n1' }), []);
    assert.ok(childrenOf(state(snap)).length > 0, 'the same snapshot, trusted, has rows');
  });
  it('shows configuration problems as items naming the index and field', () => {
    const s = state(snap, { problems: [{ source: 'dockerNetLab.nodes', index: 1, field: 'port', message: 'x' }] });
    const first = childrenOf(s)[0]!;
    const v = presentationOf(s, first)!;
    assert.equal(v.label, 'dockerNetLab.nodes[1]: port');
    assert.equal(v.command?.id, nodeCommandIds.nodeOpenSettings);
  });
  it('reports only the nodes that changed, or the root', () => {
    const t3 = container('n2', 'test3', secondBridgeIp);
    const next: TopologySnapshot = { ...snap, nodes: [snap.nodes[0]!, node('n2', [t2, t3])] };
    assert.deepEqual(changedNodes(snap, next), ['n2']);
    assert.deepEqual(changedNodes(snap, { ...snap, takenAt: 2 }), []);
    assert.equal(changedNodes(undefined, snap), 'root');
    assert.equal(changedNodes(snap, { ...snap, nodes: [snap.nodes[0]!] }), 'root');
    assert.equal(changedNodes(snap, { ...next, multiHostNetworks: [] }), 'root');
  });
  it('gives every element a parent that lists it', () => {
    const s = state(snap);
    const walk = (e: NodesElement | undefined): void => {
      for (const k of childrenOf(s, e)) {
        const p = parentOf(k);
        assert.equal(p === undefined ? undefined : elementId(p), e === undefined ? undefined : elementId(e));
        walk(k);
      }
    };
    walk(undefined);
  });
  it('summarises node states for the status bar', () => {
    assert.equal(statusSummary(snap).text, '$(server) 2/2 nodes');
    const off: TopologySnapshot = { ...snap, nodes: [snap.nodes[0]!, { ...snap.nodes[1]!, state: 'offline' }] };
    const sum = statusSummary(off);
    assert.equal(sum.text, '$(server) 1/2 nodes');
    assert.equal(sum.allOnline, false);
    assert.match(sum.lines[1] ?? '', /n2 \(h2\): offline/);
  });
});
