import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/cliIo';
import { nodesCommand, parseNodesCliArgs } from '../../src/cli/commands/nodes';
import { isLabError } from '../../src/core/errors';

const io: CliIo = { out: () => undefined, err: () => undefined, env: {}, signal: new AbortController().signal };

describe('tree --watch arguments', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-watch-'));
  const file = path.join(dir, 'nodes.json');
  fs.writeFileSync(file, JSON.stringify({ version: 1, source: 'user', nodes: [{ name: 'n1', host: '127.0.0.1', port: 22, user: 'root', auth: 'agent' }] }));

  it('--watch is read where the command accepts it, and off by default', () => {
    assert.equal(parseNodesCliArgs(['--nodes', file, '--watch'], io, { watch: true }).watch, true);
    assert.equal(parseNodesCliArgs(['--nodes', file], io, { watch: true }).watch, false);
  });
  it('commands that do not follow changes refuse --watch before connecting', async () => {
    assert.throws(() => parseNodesCliArgs(['--nodes', file, '--watch'], io), (e) => isLabError(e, 'InvalidInput') && /--watch/.test(e.message));
    await assert.rejects(nodesCommand.run(['--nodes', file, '--watch'], io), (e) => isLabError(e, 'InvalidInput') && /only `tree`/.test(e.message));
  });
});
