import type { TopologyService } from '../../core/topology/topologyService';
import type { TopologySnapshot } from '../../core/topology/topologyTypes';
import type { CliCommand, CliIo } from '../cliIo';
import { cliKnownHostsFiles, cliLogger, envSecretProvider, parseNodesCliArgs } from './nodes';

/**
 * `tree --watch`: follows Docker events and prints the tree again whenever it changes (with `--json`,
 * one compact JSON document per line), reconnecting by itself when a node goes away, until
 * interrupted (Ctrl-C: exit 0).
 */
async function watchTree(service: TopologyService, io: CliIo, render: (s: TopologySnapshot) => string, json: boolean): Promise<number> {
  let last = '';
  const print = (s: TopologySnapshot): void => {
    const text = render(s);
    if (text === last) { return; }
    last = text;
    io.out(json ? text : `--- ${new Date().toISOString()}\n${text}`);
  };
  const sub = service.onDidChange(print);
  try {
    await service.connect();
    print(service.snapshot());
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) { resolve(); return; }
      io.signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
    return 0;
  } finally {
    sub.dispose();
  }
}

/** `docker-net-lab tree`: both engines at once, nodes → networks → containers, overlays merged. */
export const treeCommand: CliCommand = {
  summary: 'show the networks and containers of every node (overlay networks merged across nodes); --watch follows changes',
  usage: 'docker-net-lab tree [--json] [--watch] [--nodes FILE] [--timeout MS]',
  async run(args, io) {
    const opts = parseNodesCliArgs(args, io, { watch: true });
    const { createTopologyService } = await import('../../core/topology/topologyService');
    const { formatTopologyTree, topologyToJson } = await import('../../core/topology/topologyFormat');
    const service = createTopologyService({
      nodes: opts.nodes, secrets: envSecretProvider(io.env), knownHostsFiles: cliKnownHostsFiles(io), logger: cliLogger(io), readyTimeoutMs: opts.timeoutMs,
      // one-shot: no events, no resync, no reconnect; --watch: the extension's defaults
      ...(opts.watch ? {} : { followEvents: false, fullResyncMs: 0, reconnect: { maxAttempts: 0 } }),
    });
    const onAbort = (): void => service.dispose();
    if (!opts.watch) { io.signal.addEventListener('abort', onAbort, { once: true }); }
    try {
      if (opts.watch) {
        const render = opts.json ? (s: TopologySnapshot): string => `${JSON.stringify(topologyToJson(s))}\n` : formatTopologyTree;
        return await watchTree(service, io, render, opts.json);
      }
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
