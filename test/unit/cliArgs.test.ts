import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseCliArgs, stepIdOrAll } from '../../src/cli/cliArgs';
import type { CliIo } from '../../src/cli/cliIo';
import { lintCommand } from '../../src/cli/commands/lint';
import { runCommand } from '../../src/cli/commands/run';
import { verifyCommand } from '../../src/cli/commands/verify';
import { isLabError } from '../../src/core/errors';

const io: CliIo = { out: () => undefined, err: () => undefined, env: {}, signal: new AbortController().signal };

describe('CLI argument parsing shared by the commands', () => {
  it('returns typed values and operands', () => {
    const { values, positionals } = parseCliArgs(['--json', 'a.log', '--node', 'n1'], { json: { type: 'boolean' }, node: { type: 'string' } }, { positionals: true });
    assert.equal(values.json, true);
    assert.equal(values.node, 'n1');
    assert.deepEqual(positionals, ['a.log']);
  });

  it('refuses an unknown option, a missing value and (by default) any operand with InvalidInput', () => {
    const opts = { nodes: { type: 'string' } } as const;
    assert.throws(() => parseCliArgs(['--bogus'], opts), (e) => isLabError(e, 'InvalidInput') && /--bogus/.test(e.message) && !/usage:/.test(e.message));
    assert.throws(() => parseCliArgs(['--nodes'], opts), (e) => isLabError(e, 'InvalidInput') && /--nodes/.test(e.message));
    assert.throws(() => parseCliArgs(['extra'], opts), (e) => isLabError(e, 'InvalidInput') && /extra/.test(e.message));
  });

  it('appends the usage line when one is given', () => {
    assert.throws(() => parseCliArgs(['--bogus'], {}, { usage: 'docker-net-lab x [--y]' }), (e) => isLabError(e, 'InvalidInput') && e.message.endsWith('\nusage: docker-net-lab x [--y]'));
  });

  it('step id or --all: exactly one of them', () => {
    assert.equal(stepIdOrAll(true, []), undefined);
    assert.equal(stepIdOrAll(undefined, ['ch1-run-web']), 'ch1-run-web');
    for (const [all, pos] of [[undefined, []], [true, ['ch1-run-web']], [undefined, ['a', 'b']], [true, ['a', 'b']]] as const) {
      assert.throws(() => stepIdOrAll(all, pos), (e) => isLabError(e, 'InvalidInput') && /one step id or --all/.test(e.message), `${String(all)} ${pos.join(',')}`);
    }
  });

  it('run, verify and lint reject bad arguments before touching a node or a file', async () => {
    await assert.rejects(runCommand.run(['a', 'b'], io), (e) => isLabError(e, 'InvalidInput') && /one step id or --all/.test(e.message));
    await assert.rejects(runCommand.run(['ch1-run-web', '--from', 'x'], io), (e) => isLabError(e, 'InvalidInput') && /--from goes with --all/.test(e.message));
    await assert.rejects(verifyCommand.run(['--all', '--yes'], io), (e) => isLabError(e, 'InvalidInput') && /--yes/.test(e.message));
    await assert.rejects(lintCommand.run(['--docker'], io), (e) => isLabError(e, 'InvalidInput') && /\nusage: docker-net-lab lint FILE/.test(e.message));
    await assert.rejects(lintCommand.run([], io), (e) => isLabError(e, 'InvalidInput') && /no file given/.test(e.message));
  });
});
