import type { CliCommand } from '../cliIo';
import { cliKnownHostsFiles, cliLogger, envSecretProvider, parseNodesCliArgs } from './nodes';

/** `docker-net-lab tree`: both engines at once, nodes → networks → containers, overlays merged. */
export const treeCommand: CliCommand = {
  summary: 'show the networks and containers of every node (overlay networks merged across nodes)',
  usage: 'docker-net-lab tree [--json] [--nodes FILE] [--timeout MS]',
  async run(args, io) {
    const opts = parseNodesCliArgs(args, io);
    const { createTopologyService } = await import('../../core/topology/topologyService');
    const { formatTopologyTree, topologyToJson } = await import('../../core/topology/topologyFormat');
    const service = createTopologyService({
      nodes: opts.nodes, secrets: envSecretProvider(io.env), knownHostsFiles: cliKnownHostsFiles(io), logger: cliLogger(io),
      followEvents: false, fullResyncMs: 0, reconnect: { maxAttempts: 0 }, readyTimeoutMs: opts.timeoutMs,
    });
    const onAbort = (): void => service.dispose();
    io.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await service.connect();
      const snap = service.snapshot();
      io.out(opts.json ? `${JSON.stringify(topologyToJson(snap), null, 2)}\n` : formatTopologyTree(snap));
      return snap.nodes.every((n) => n.state === 'online') ? 0 : 1;
    } finally {
      io.signal.removeEventListener('abort', onAbort);
      service.dispose();
    }
  },
};
