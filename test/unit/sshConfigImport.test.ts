import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { expandIdentityFile, importSshConfig } from '../../src/core/ssh/sshConfigImport';

const fixture = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'ssh-config.fixture');

describe('~/.ssh/config import', () => {
  const result = importSshConfig(fs.readFileSync(fixture, 'utf8'), { home: '/home/learner', localUser: 'learner' });

  it('turns each non-wildcard alias into a validated node', () => {
    assert.deepEqual(result.nodes.map((n) => n.name), ['node1', 'n1', 'node2', 'agentonly']);
    const node1 = result.nodes[0]!;
    assert.deepEqual(node1, { name: 'node1', host: '10.99.0.11', port: 22, user: 'root', auth: 'key', keyFile: '/home/learner/.ssh/lab_ed25519' });
    assert.equal(result.nodes[1]!.host, '10.99.0.11');
  });

  it('applies Host * defaults after specific ones (first value wins), Port and %d expansion', () => {
    const node2 = result.nodes.find((n) => n.name === 'node2')!;
    assert.equal(node2.port, 2222);
    assert.equal(node2.user, 'fallback');
    assert.equal(node2.keyFile, '/home/learner/.ssh/id_node2');
  });

  it('uses ssh-agent when no IdentityFile is given', () => {
    const a = result.nodes.find((n) => n.name === 'agentonly')!;
    assert.equal(a.auth, 'agent');
    assert.equal(a.keyFile, undefined);
    assert.equal(a.host, 'agent.lab.test');
  });

  it('skips wildcard hosts and reports invalid ones', () => {
    assert.ok(!result.nodes.some((n) => n.name.includes('*')));
    assert.equal(result.skipped.length, 1);
    assert.equal(result.skipped[0]!.alias, 'badport');
    assert.match(result.skipped[0]!.reason, /port/);
  });

  it('a learner\'s own machines (User learner, IdentityFile): key auth with the expanded key, and sudo for the root commands', () => {
    const text = [
      'Host docker-node1', '  HostName 10.99.0.11', '  User learner', '  IdentityFile ~/.ssh/lab_ed25519', '',
      'Host docker-node2', '  HostName 10.99.0.12', '  User learner', '  IdentityFile ~/.ssh/lab_ed25519', '',
    ].join('\n');
    const { nodes, skipped } = importSshConfig(text, { home: '/home/learner', localUser: 'learner' });
    assert.deepEqual(skipped, []);
    assert.deepEqual(nodes, ['docker-node1', 'docker-node2'].map((name, i) => ({
      name, host: `10.99.0.1${i + 1}`, port: 22, user: 'learner', auth: 'key', keyFile: '/home/learner/.ssh/lab_ed25519', sudo: true,
    })));
    assert.equal(result.nodes.find((n) => n.name === 'node1')?.sudo, undefined, 'root needs no sudo');
  });

  it('expands ~ and % tokens', () => {
    assert.equal(expandIdentityFile('~/.ssh/id_%u', '/h', 'me', 'x'), '/h/.ssh/id_me');
    assert.equal(expandIdentityFile('/keys/%h%%', '/h', 'me', 'x'), '/keys/x%');
  });
});
