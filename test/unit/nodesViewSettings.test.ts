import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { parseUserHostPort, readNodesConfiguration, sshConfigFilePath, suggestNodeName, validateNodeName } from '../../src/vscode/nodes/nodeSettings';

const lab: NodeConfig[] = [{ name: 'docker-node1', host: 'node1.lab', port: 22, user: 'root', auth: 'key', keyFile: '/k' }];

describe('nodes view settings', () => {
  it('keeps valid entries and names the index and field of a malformed one', () => {
    const cfg = readNodesConfiguration([
      { name: 'a', host: 'host-a', port: 22, user: 'root', auth: 'agent' },
      { name: 'b', host: 'host-b', port: 70000, user: 'root', auth: 'agent' },
      { name: 'c', host: 'host-c', user: 'root', auth: 'agent' },
      { name: 'd', host: 'host-d', port: 22, user: 'root', auth: 'agent', password: 'x' },
      { name: 'e', host: 'host-e', port: 22, user: 'root', auth: 'key' },
    ], lab);
    assert.deepEqual(cfg.nodes.map((n) => [n.config.name, n.origin]), [['docker-node1', 'localLab'], ['a', 'settings']]);
    assert.deepEqual(cfg.problems.map((p) => [p.index, p.field]), [[1, 'port'], [2, 'port'], [3, 'password'], [4, 'keyFile']]);
    assert.match(cfg.problems[0]!.message, /dockerNetLab\.nodes\[1\]: "port" must be <= 65535/);
    assert.match(cfg.problems[2]!.message, /secrets are never kept in settings/);
  });
  it('the ssh config file of Add Node: ~/.ssh/config when the setting is empty, else the setting with ~ expanded', () => {
    assert.equal(sshConfigFilePath('', '/home/learner'), '/home/learner/.ssh/config');
    assert.equal(sshConfigFilePath(undefined, '/home/learner'), '/home/learner/.ssh/config');
    assert.equal(sshConfigFilePath(' ~/lab/ssh_config ', '/home/learner'), '/home/learner/lab/ssh_config');
    assert.equal(sshConfigFilePath('/etc/lab/ssh_config', '/home/learner'), '/etc/lab/ssh_config');
  });
  it('refuses a settings node that reuses a lab node name, and a non-array value', () => {
    const cfg = readNodesConfiguration([{ name: 'docker-node1', host: 'x', port: 22, user: 'root', auth: 'agent' }], lab);
    assert.equal(cfg.nodes.length, 1);
    assert.equal(cfg.problems[0]?.field, 'name');
    assert.equal(readNodesConfiguration({ a: 1 }, undefined).problems[0]?.index, -1);
    assert.equal(readNodesConfiguration(undefined, undefined).nodes.length, 0);
  });
  it('parses user@host:port and says what is wrong', () => {
    assert.deepEqual(parseUserHostPort('root@node1'), { ok: true, user: 'root', host: 'node1', port: 22 });
    assert.deepEqual(parseUserHostPort(' pi@h.example.org:2222 '), { ok: true, user: 'pi', host: 'h.example.org', port: 2222 });
    assert.deepEqual(parseUserHostPort('me@[::1]:2200'), { ok: true, user: 'me', host: '::1', port: 2200 });
    const bad = (t: string, re: RegExp): void => {
      const r = parseUserHostPort(t);
      assert.equal(r.ok, false, t);
      if (!r.ok) { assert.match(r.message, re, t); }
    };
    bad('node1', /user is missing/);
    bad('Root!@node1', /not a valid user name/);
    bad('root@', /host is missing/);
    bad('root@-oProxyCommand=x', /not a valid host/);
    bad('root@host:99999', /out of range/);
    bad('root@host:ssh', /not a port number/);
    bad('root@[::1', /closing/);
  });
  it('suggests unique valid names', () => {
    assert.equal(suggestNodeName('node1.lab', new Set()), 'node1.lab');
    assert.equal(suggestNodeName('node1', new Set(['node1'])), 'node1-2');
    assert.equal(validateNodeName('node1', new Set(['node1'])), 'A node named "node1" already exists.');
    assert.match(validateNodeName('-x', new Set()) ?? '', /letters/);
    assert.equal(validateNodeName('ok', new Set()), undefined);
  });
});

describe('nodes view manifest', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../../package.json') as { contributes: { configuration: { properties: Record<string, { items?: unknown }> }; commands: { command: string }[] } };
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) { return v.map(strip); }
    if (typeof v !== 'object' || v === null) { return v; }
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'description' && k !== 'default').map(([k, x]) => [k, strip(x)]));
  };
  it('declares dockerNetLab.nodes items with the same schema as nodeConfigSchema', async () => {
    const { nodeConfigSchema } = await import('../../src/core/nodes/nodesFile');
    assert.deepEqual(strip(pkg.contributes.configuration.properties['dockerNetLab.nodes']?.items), strip(JSON.parse(JSON.stringify(nodeConfigSchema))));
  });
  it('contributes every nodes command id', async () => {
    const { nodeCommandIds } = await import('../../src/vscode/nodes/nodeCommandIds');
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    for (const id of Object.values(nodeCommandIds)) { assert.ok(contributed.has(id), id); }
  });
});
