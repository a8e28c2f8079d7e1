import { parseCliArgs, stepIdOrAll } from '../cliArgs';
import type { CliCommand } from '../cliIo';
import { openLabSession, summarize } from './run';

/** `docker-net-lab verify`: checks on the nodes that a step's result is (still) in place, without changing anything. */
export const verifyCommand: CliCommand = {
  summary: 'verify a step of the guided lab (or all of them) on the nodes, without changing them',
  usage: 'docker-net-lab verify <step-id> | --all [--json] [--nodes FILE]',
  async run(args, io) {
    const { values, positionals } = parseCliArgs(args, { all: { type: 'boolean' }, json: { type: 'boolean' }, nodes: { type: 'string' } }, { positionals: true });
    const stepId = stepIdOrAll(values.all, positionals);
    const s = await openLabSession(io, { nodes: values.nodes, yes: false, json: values.json === true });
    try {
      const results = stepId === undefined ? await s.runner.verifyAll({ signal: io.signal }) : [await s.runner.verifyStep(stepId, { signal: io.signal })];
      return summarize(io, results, values.json === true);
    } finally {
      s.dispose();
    }
  },
};
