import { parseCliArgs } from '../cliArgs';
import type { CliCommand } from '../cliIo';
import { openLabSession } from './run';

/** `docker-net-lab reset`: removes what the guided lab created on the nodes and clears its progress. */
export const resetCommand: CliCommand = {
  summary: 'remove everything the guided lab created on the nodes (containers, networks, built images, dockerd flags, swarm) and clear the progress',
  usage: 'docker-net-lab reset [--yes] [--nodes FILE]',
  async run(args, io) {
    const { values } = parseCliArgs(args, { yes: { type: 'boolean' }, nodes: { type: 'string' } });
    const yes = values.yes === true;
    if (!yes && process.stdin.isTTY !== true) {
      io.err('docker-net-lab reset: refusing without --yes when not on a terminal (it removes containers and networks on the nodes).\n');
      return 2;
    }
    const s = await openLabSession(io, { nodes: values.nodes, yes });
    try {
      const r = await s.runner.reset({ signal: io.signal });
      if (r.cancelled) { io.err('reset: not confirmed; nothing was changed.\n'); return 1; }
      for (const f of r.failures) { io.err(`reset: ${f}\n`); }
      return r.ok ? 0 : 1;
    } finally {
      s.dispose();
    }
  },
};
