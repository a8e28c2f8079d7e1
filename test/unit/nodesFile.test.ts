import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import { formatNodesFile, parseNodeConfig, parseNodesFile } from '../../src/core/nodes/nodesFile';

const good = {
  version: 1,
  source: 'local-lab',
  nodes: [
    { name: 'docker-node1', host: '10.99.0.11', port: 22, user: 'root', auth: 'key', keyFile: '/k', hostKeyFingerprints: [`SHA256:${'A'.repeat(43)}`] },
    { name: 'docker-node2', host: '10.99.0.12', port: 22, user: 'root', auth: 'key', keyFile: '/k' },
  ],
};

describe('nodes file', () => {
  it('round-trips a valid file', () => {
    const parsed = parseNodesFile(JSON.stringify(good), 'nodes.json');
    assert.equal(parsed.nodes.length, 2);
    assert.deepEqual(parseNodesFile(formatNodesFile(parsed), 'x'), parsed);
  });
  it('names the file and the field when a node is malformed', () => {
    const bad = { ...good, nodes: [{ ...good.nodes[0], port: 70000 }] };
    assert.throws(() => parseNodesFile(JSON.stringify(bad), 'my.json'), (e: unknown) =>
      isLabError(e, 'InvalidNodesFile') && e.message.includes('my.json') && e.message.includes('/nodes/0/port'));
  });
  it('rejects broken JSON, duplicate names and hosts that look like options', () => {
    assert.throws(() => parseNodesFile('{', 'f'), (e: unknown) => isLabError(e, 'InvalidNodesFile'));
    const dup = { ...good, nodes: [good.nodes[0], good.nodes[0]] };
    assert.throws(() => parseNodesFile(JSON.stringify(dup), 'f'), /used twice/);
    assert.throws(() => parseNodeConfig({ name: 'n', host: '-oProxyCommand=x', port: 22, user: 'root', auth: 'agent' }), /host/);
    assert.throws(() => parseNodeConfig({ name: 'n', host: 'h', port: 22, user: 'root', auth: 'key' }), /keyFile/);
  });
});
