// Event-to-tree latency: from `docker run -d` on a node (started over the node's SSH session) to the
// first TopologyService snapshot that contains the new container (onDidChange, events followed,
// 100 ms debounce). Baseline: a poller that runs a full `docker ps` resync every second sees a new
// container on average half a period after it appears (plus its own listing time) and at worst one
// whole period after it; the poller's expected latency is computed from the measured listing time.
import { performance } from 'node:perf_hooks';
import { labKnownHostsFile } from '../src/core/nodes/localLabPaths';
import type { TopologySnapshot } from '../src/core/topology/topologyTypes';
import { createTopologyService } from '../src/core/topology/topologyService';
import { firstLine, labNodes, machineLine, r2, r4, statsOf } from './benchLab';
import type { BenchResult } from './index';

const RUNS = 20;
const POLL_PERIOD_MS = 1000;
/** Longest wait for one container to show in the tree, ms. */
const WAIT_LIMIT_MS = 10_000;
const NAME = 'dnlbench-ev';

function hasContainer(s: TopologySnapshot, node: string, name: string): boolean {
  return s.nodes.some((n) => n.name === node && n.containers.some((c) => c.name === name || c.name === `/${name}`));
}

/** Runs the event-to-tree benchmark; returns its compared results. */
export async function runBench(log: (line: string) => void): Promise<BenchResult[]> {
  const lab = labNodes();
  if ('skip' in lab) { log(`skipped: ${lab.skip}`); return []; }
  const nodes = lab.nodes.slice(0, 2);
  const service = createTopologyService({ nodes, knownHostsFiles: [labKnownHostsFile()], fullResyncMs: 0 });
  const latencies: number[] = [];
  const listing: number[] = [];
  const sinceCreated: number[] = [];
  try {
    await service.connect();
    const offline = service.snapshot().nodes.filter((n) => n.state !== 'online');
    if (offline.length > 0) { throw new Error(`node(s) not online: ${offline.map((n) => `${n.name} ${n.state}`).join(', ')}`); }
    const shells = await Promise.all(nodes.map((n) => service.shell(n.name)));
    for (const sh of shells) { await sh.exec(`docker rm -f ${NAME} >/dev/null 2>&1; true`, { timeoutMs: 30_000 }); }
    for (let i = 0; i < RUNS; i++) {
      const node = nodes[i % nodes.length]!.name;
      const shell = shells[i % nodes.length]!;
      const name = `${NAME}${i}`;
      let seen: (t: number) => void = () => undefined;
      let seenWall = 0;
      const shown = new Promise<number>((resolve) => { seen = resolve; });
      const sub = service.onDidChange((s) => { if (seenWall === 0 && hasContainer(s, node, name)) { seenWall = Date.now(); seen(performance.now()); } });
      try {
        const t0 = performance.now();
        // the clock starts when `docker run` is sent; the container exists once dockerd created it
        const run = shell.exec(`docker run -d --pull never --name ${name} busybox sleep 600`, { timeoutMs: WAIT_LIMIT_MS });
        const timeout = new Promise<never>((_, reject) => { setTimeout(() => { reject(new Error(`${name} did not show in the tree within ${WAIT_LIMIT_MS} ms`)); }, WAIT_LIMIT_MS).unref(); });
        const t1 = await Promise.race([shown, timeout]);
        const r = await run;
        if (r.code !== 0) { throw new Error(`docker run failed on ${node}: ${r.stderr.slice(0, 200)}`); }
        latencies.push(t1 - t0);
        // the lab's nodes share this machine's clock: the part after dockerd created the container
        const created = Date.parse(String((await service.engine(node).inspectContainerRaw(name) as { Created?: string }).Created ?? ''));
        if (Number.isFinite(created)) { sinceCreated.push(seenWall - created); }
      } finally {
        sub.dispose();
        await shell.exec(`docker rm -f ${name} >/dev/null 2>&1; true`, { timeoutMs: 30_000 }).catch(() => undefined);
      }
    }
    // the poller's own cost: one full `docker ps -a` listing of a node over the warm session
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await service.engine(nodes[i % 2]!.name).listContainers();
      listing.push(performance.now() - t);
    }
  } catch (e) {
    log(`failed after ${latencies.length} runs: ${firstLine(e)}`);
    if (latencies.length < 5) { throw e; }
  } finally {
    service.dispose();
  }
  const s = statsOf(latencies);
  const l = statsOf(listing);
  const pollMean = POLL_PERIOD_MS / 2 + l.p50;
  const pollP95 = 0.95 * POLL_PERIOD_MS + l.p50;
  log(machineLine());
  log(`docker run -> container in the tree, ${s.n} runs alternating nodes: p50 ${r2(s.p50)} ms, p95 ${r2(s.p95)} ms, min ${r2(s.min)}, max ${r2(s.max)} (includes the docker run itself: create + start)`);
  if (sinceCreated.length > 0) {
    const c = statsOf(sinceCreated);
    log(`of which after dockerd created the container (its Created time; same clock on the local lab): p50 ${r2(c.p50)} ms, p95 ${r2(c.p95)} ms`);
  }
  log(`baseline: polling "docker ps -a" every ${POLL_PERIOD_MS} ms; listing p50 ${r2(l.p50)} ms -> expected latency ${r2(pollMean)} ms (period/2 + listing), p95 ${r2(pollP95)} ms (0.95 period + listing); event-driven p50 is ${r2(pollMean / s.p50)}x lower`);
  const results: BenchResult[] = [
    { name: 'event to tree p95 (absolute)', unit: 'ms', ours: r2(s.p95), baseline: 300, baselineName: 'goal 300 ms', ratio: r4(s.p95 / 300), goal: 'p95 <= 300 ms', met: s.p95 <= 300 },
    { name: 'event to tree p50 vs 1 s docker ps poller (expected latency)', unit: 'ms', ours: r2(s.p50), baseline: r2(pollMean), baselineName: `poll every ${POLL_PERIOD_MS} ms: period/2 + listing p50`, ratio: r4(s.p50 / pollMean), goal: 'ratio < 1 (sooner than the poller on average)', met: s.p50 < pollMean },
    { name: 'event to tree p95 vs 1 s docker ps poller (p95)', unit: 'ms', ours: r2(s.p95), baseline: r2(pollP95), baselineName: `poll every ${POLL_PERIOD_MS} ms: 0.95 period + listing p50`, ratio: r4(s.p95 / pollP95), goal: 'ratio < 1', met: s.p95 < pollP95 },
  ];
  for (const r of results) { log(`${r.met ? 'MET ' : 'MISS'} ${r.name}: ${r.ours} vs ${r.baseline} ms, ratio ${r.ratio} (${r.goal})`); }
  return results;
}
