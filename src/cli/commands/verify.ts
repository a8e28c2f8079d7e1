import { parseArgs } from 'node:util';
import { LabError, describeError } from '../../core/errors';
import type { CliCommand } from '../cliIo';
import { openLabSession, summarize } from './run';

/** `docker-net-lab verify`: checks on the nodes that a step's result is (still) in place, without changing anything. */
export const verifyCommand: CliCommand = {
  summary: 'verify a step of the guided lab (or all of them) on the nodes, without changing them',
  usage: 'docker-net-lab verify <step-id> | --all [--json] [--nodes FILE]',
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { all: { type: 'boolean' }, json: { type: 'boolean' }, nodes: { type: 'string' } } });
    } catch (e) {
      throw new LabError('InvalidInput', describeError(e));
    }
    const { values, positionals } = parsed;
    const all = values.all === true;
    if (all === (positionals.length === 1) || positionals.length > 1) {
      throw new LabError('InvalidInput', 'Give one step id or --all (see "docker-net-lab steps").');
    }
    const s = await openLabSession(io, { nodes: values.nodes, yes: false, json: values.json === true });
    try {
      const results = all ? await s.runner.verifyAll({ signal: io.signal }) : [await s.runner.verifyStep(positionals[0] ?? '', { signal: io.signal })];
      return summarize(io, results, values.json === true);
    } finally {
      s.dispose();
    }
  },
};
