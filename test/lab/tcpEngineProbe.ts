// Child of transport.test.ts, started inside a lab node's network namespace (the nodes' port guard drops
// 2375 from the machine): lists node N of the lab nodes file over the core's plain-TCP Docker transport and
// prints what it saw as one JSON line. usage: node tcpEngineProbe.js NODES_FILE INDEX
import { DockerEngine } from '../../src/core/docker/dockerEngine';
import { readNodesFile } from '../../src/core/nodes/nodesFile';

/** What the probe prints. */
export interface TcpProbeResult {
  readonly transport: string;
  readonly networkIds: string[];
  readonly containerIds: string[];
  readonly infoName: string;
}

async function main(): Promise<void> {
  const [file, index] = process.argv.slice(2);
  const node = readNodesFile(file ?? '').nodes[Number(index ?? '0')];
  if (node === undefined) { throw new Error(`no node ${index ?? '?'} in ${file ?? '?'}`); }
  const engine = new DockerEngine({ ...node, docker: { transport: 'tcp', tcpPort: node.docker?.tcpPort ?? 2375 } }, undefined);
  try {
    const result: TcpProbeResult = {
      networkIds: (await engine.listNetworks()).map((n) => n.id).sort(),
      containerIds: (await engine.listContainers()).map((c) => c.id).sort(),
      infoName: (await engine.info()).name,
      transport: engine.transport,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    engine.dispose();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => { process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 1; });
}
