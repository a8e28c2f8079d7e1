import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { sshTerminalArgs, terminalKey } from '../../src/vscode/nodes/nodeTerminalArgs';

const node: NodeConfig = { name: 'n2', host: 'node2.lab', port: 2222, user: 'root', auth: 'key', keyFile: '/keys/id' };

describe('nodes view terminals', () => {
  it('builds a strict ssh command line for a node', () => {
    assert.deepEqual(sshTerminalArgs(node, { knownHostsFiles: ['/a/known_hosts', '/b c/known_hosts'] }), [
      '-p', '2222', '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=/a/known_hosts "/b c/known_hosts"',
      '-i', '/keys/id', '-o', 'IdentitiesOnly=yes', '--', 'root@node2.lab',
    ]);
  });
  it('runs docker exec -it <id> sh in a container, with sudo when configured', () => {
    const id = 'a'.repeat(64);
    const args = sshTerminalArgs({ ...node, auth: 'agent', sudo: true }, { knownHostsFiles: [], containerId: id });
    assert.deepEqual(args.slice(args.indexOf('-t')), ['-t', '--', 'root@node2.lab', 'sudo', 'docker', 'exec', '-it', id, 'sh']);
    assert.ok(!args.includes('-i'));
    assert.throws(() => sshTerminalArgs(node, { knownHostsFiles: [], containerId: 'web; rm -rf /' }), (e: unknown) => isLabError(e, 'InvalidInput'));
  });
  it('keys terminals by node and container id', () => {
    assert.equal(terminalKey('n2'), 'node:n2');
    assert.equal(terminalKey('n2', 'abc'), 'container:n2:abc');
    assert.notEqual(terminalKey('n1', 'abc'), terminalKey('n2', 'abc'));
  });
});
