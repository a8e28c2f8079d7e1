// Topology refresh benchmark: a full snapshot of both lab nodes with 200 extra containers on each,
// (a) ours: TopologyService.refresh() on warm SSH sessions (networks, containers, info, version of
// both nodes over the Docker API on streamlocal channels), (b) the docker CLI over ssh the way a user
// would script it (a new ssh connection per node and round: `docker network ls`, `docker network
// inspect` of all, `docker ps -a`), (c) the same four API calls as ours with dockerode over plain
// TCP 2375 (opened from the other node's namespace). The containers are created before and removed after (finally), bounded in count and time.
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { NetnsAgent } from '../lab/netnsSocket';
import { labKnownHostsFile } from '../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../src/core/nodes/nodeConfig';
import type { TopologyService } from '../src/core/topology/topologyService';
import { createTopologyService } from '../src/core/topology/topologyService';
import type { Stats } from './benchLab';
import { firstLine, labNodes, machineLine, r2, r4, run, sshArgs, statsOf } from './benchLab';
import type { BenchResult } from './index';

/** Containers per node (400 in all). */
const PER_NODE = 200;
/** Parallel `docker run` per batch on a node. */
const BATCH = 10;
/** Time limit of creating (and, separately, removing) the containers of one node, ms. */
const SETUP_LIMIT_MS = 240_000;
const PREFIX = 'dnlbench-';

const removeScript = `ids=$(docker ps -aq --filter name=${PREFIX}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; docker ps -aq --filter name=${PREFIX} | wc -l`;

function createScript(count: number): string {
  // one ssh connection per node; `docker run` in parallel batches; never pulls (busybox is in the lab image cache)
  return `i=1; while [ $i -le ${count} ]; do ` +
    `docker run -d --pull never --name ${PREFIX}$i busybox sh -c 'while true; do sleep 3600; done' >/dev/null 2>&1 & ` +
    `if [ $((i % ${BATCH})) -eq 0 ]; then wait; fi; i=$((i+1)); done; wait; docker ps -q --filter name=${PREFIX} | wc -l`;
}

async function onNodes(service: TopologyService, nodes: readonly NodeConfig[], script: string): Promise<number[]> {
  return Promise.all(nodes.map(async (n) => {
    const shell = await service.shell(n.name);
    const r = await shell.exec(script, { timeoutMs: SETUP_LIMIT_MS });
    if (r.code !== 0) { throw new Error(`${n.name}: exit ${String(r.code)}: ${r.stderr.slice(0, 300)}`); }
    return Number.parseInt(r.stdout.trim(), 10);
  }));
}

/** The CLI listing a user would script, one ssh connection per node; returns the number of `docker ps` lines. */
async function cliListing(node: NodeConfig): Promise<number> {
  const remote = `docker network ls --format '{{json .}}' && docker network inspect $(docker network ls -q) >/dev/null && docker ps -a --format '{{json .}}'`;
  const out = await run('ssh', sshArgs(node, remote), 60_000);
  return out.split('\n').filter((l) => l.startsWith('{') && l.includes('"Image"')).length;
}

/** Runs the topology refresh benchmark; returns its compared results. */
export async function runBench(log: (line: string) => void): Promise<BenchResult[]> {
  const lab = labNodes();
  if ('skip' in lab) { log(`skipped: ${lab.skip}`); return []; }
  const nodes = lab.nodes.slice(0, 2);
  const service = createTopologyService({ nodes, knownHostsFiles: [labKnownHostsFile()], followEvents: false, fullResyncMs: 0 });
  // each node's TCP connection is opened in the other node's namespace: the nodes' port guard drops 2375 from
  // this machine, and the path (veth, lab bridge, veth) is the one this machine's connection took before
  const tcpAgents = nodes.map((_n, i) => new NetnsAgent(nodes[1 - i]?.name ?? 'docker-node2'));
  const tcp = nodes.map((n, i) => new Docker({ protocol: 'http', host: n.host, port: n.docker?.tcpPort ?? 2375, agent: tcpAgents[i] } as Docker.DockerOptions));
  const stats: Record<string, Stats> = {};
  let oursS: Stats | undefined;
  let tcpS: Stats | undefined;
  const items = { ours: 0, tcp: 0, cli: 0 };
  try {
    await service.connect();
    const offline = service.snapshot().nodes.filter((n) => n.state !== 'online');
    if (offline.length > 0) { throw new Error(`node(s) not online: ${offline.map((n) => `${n.name} ${n.state}`).join(', ')}`); }
    await onNodes(service, nodes, removeScript);
    const t0 = performance.now();
    const made = await onNodes(service, nodes, createScript(PER_NODE));
    log(`created ${made.join(' + ')} running ${PREFIX}* containers in ${((performance.now() - t0) / 1000).toFixed(1)} s (batches of ${BATCH}, one ssh connection per node)`);
    if (made.some((m) => m < PER_NODE)) { log(`warning: fewer than ${PER_NODE} containers on a node; the numbers below are for ${made.join(' + ')}`); }

    const ours = async (): Promise<number> => {
      await service.refresh();
      return service.snapshot().nodes.reduce((a, n) => a + n.containers.length, 0);
    };
    const viaTcp = async (): Promise<number> => {
      const per = await Promise.all(tcp.map(async (d) => {
        const [, cs] = await Promise.all([d.listNetworks(), d.listContainers({ all: true }), d.info(), d.version()]);
        return cs.length;
      }));
      return per.reduce((a, b) => a + b, 0);
    };
    // ours and TCP interleaved (one of each per round) so that machine load hits both alike
    const tOurs: number[] = [];
    const tTcp: number[] = [];
    for (let i = 0; i < 23; i++) {
      let s = performance.now();
      items.ours = await ours();
      if (i >= 3) { tOurs.push(performance.now() - s); }
      s = performance.now();
      items.tcp = await viaTcp();
      if (i >= 3) { tTcp.push(performance.now() - s); }
    }
    oursS = statsOf(tOurs);
    tcpS = statsOf(tTcp);
    stats['ours (TopologyService.refresh, warm ssh)'] = oursS;
    stats['dockerode tcp 2375 (same 4 calls)'] = tcpS;
    try {
      const tCli: number[] = [];
      for (let i = 0; i < 6; i++) {
        const s = performance.now();
        items.cli = (await Promise.all(nodes.map(cliListing))).reduce((a, b) => a + b, 0);
        if (i >= 1) { tCli.push(performance.now() - s); }
      }
      stats['docker CLI over ssh'] = statsOf(tCli);
    } catch (e) {
      log(`baseline "docker CLI over ssh" failed: ${firstLine(e)}`);
    }
  } finally {
    try {
      const left = await onNodes(service, nodes, removeScript);
      log(`removed the ${PREFIX}* containers (left: ${left.join(' + ')})`);
    } catch (e) {
      log(`cleanup failed: ${firstLine(e)} — remove them with: docker rm -f $(docker ps -aq --filter name=${PREFIX})`);
    }
    service.dispose();
    for (const a of tcpAgents) { a.destroy(); }
  }

  log(machineLine());
  log(`containers listed per round (both nodes): ours ${items.ours}, tcp ${items.tcp}, cli ${items.cli}`);
  if (oursS === undefined || tcpS === undefined) { throw new Error('the refresh was not measured'); }
  const o = oursS;
  log(`${'method'.padEnd(42)} ${'n'.padStart(3)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'p50 vs ours'.padStart(12)}`);
  for (const [name, s] of Object.entries(stats)) {
    log(`${name.padEnd(42)} ${String(s.n).padStart(3)} ${r2(s.p50).toFixed(2).padStart(9)} ${r2(s.p95).toFixed(2).padStart(9)} ${`${r2(s.p50 / oursS.p50).toFixed(2)}x`.padStart(12)}`);
  }
  const results: BenchResult[] = [];
  const add = (name: string, baselineName: string, baseline: number, goal: string, ok: (ratio: number) => boolean): void => {
    const ratio = o.p50 / baseline;
    results.push({ name, unit: 'ms', ours: r2(o.p50), baseline: r2(baseline), baselineName, ratio: r4(ratio), goal, met: ok(ratio) });
  };
  const cli = stats['docker CLI over ssh'];
  if (cli !== undefined) { add('topology refresh 2x200 p50: ours vs docker CLI over ssh', 'docker CLI over ssh (network ls + network inspect + ps -a, both nodes)', cli.p50, 'ratio <= 0.1 (at least 10x faster)', (r) => r <= 0.1); }
  add('topology refresh 2x200 p50: ours vs dockerode tcp', 'dockerode tcp 2375 (networks, containers, info, version; both nodes)', tcpS.p50, 'ratio <= 2 (within 2x of plain TCP)', (r) => r <= 2);
  add('topology refresh 2x200 p50 (absolute)', 'goal 150 ms', 150, 'ours <= 150 ms', (r) => r <= 1);
  for (const r of results) { log(`${r.met ? 'MET ' : 'MISS'} ${r.name}: ${r.ours} vs ${r.baseline} ms, ratio ${r.ratio} (${r.goal})`); }
  return results;
}
