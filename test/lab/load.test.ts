import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import type { TopologyService } from '../../src/core/topology/topologyService';
import type { TopologySnapshot } from '../../src/core/topology/topologyTypes';
import type { Cmd } from './labHelpers';
import {
  labNodesOrReason, labTopology, leaveClusterMode, nodeOf, probeImage, removeByPrefixBounded, restoreClusterMode, sshAsync, viewDifference, waitFor,
} from './reliabilityHelpers';

// Load on the shared local lab: 500 containers per node (a share of them running, the rest created and not
// started: `docker run` costs ~0.3 s per container on a 2-core machine, `docker create` ~0.02 s), then
// bursts of create/remove. After each phase the TopologyService snapshot must equal what the docker CLI
// reports on each node (names + states, network ids). Memory is that of this test process, which holds the
// TopologyService (the extension host's part is measured by test/vscode/suite/nodesLoad.test.ts).
//
// Removal is bounded: running containers are killed in sequential batches first, then everything is
// removed in sequential batches (no parallel `docker rm -f` of running containers: in a full CI run four
// parallel `docker rm -f` batches of running containers per node stalled dockerd 20.10 for minutes).
// A removal that overruns its limit asks dockerd for a goroutine dump (SIGUSR1, written under the
// node's /var/run/docker) and says where it is. Leftovers are swept at the start (prefix dnl-load-) and
// in finally. DOCKER_NET_LAB_LOAD=0 skips the test. Nodes whose dockerd uses the etcd cluster store run
// the test on a plain dockerd and go back afterwards (see leaveClusterMode for the deadlock it avoids).
// Run under the dev lock: flock /var/lib/docker-net-lab-dev.lock node scripts/run-node-tests.mjs lab out/test/lab --grep=load

const basePrefix = 'dnl-load-';
const prefix = `${basePrefix}${process.pid}-`;
const perNode = 500;
/** Nodes whose dockerd left the cluster store for this test. */
let switchedBack: string[] = [];
/** Running share of the 500 per node (DOCKER_NET_LAB_LOAD_RUNNING overrides; the rest is created only). */
const runningPerNode = Math.min(perNode, Math.max(0, Number.parseInt(process.env['DOCKER_NET_LAB_LOAD_RUNNING'] ?? '100', 10) || 0));
const bursts = 5;
const burstSize = 50;
const parallel = 8;
/** Limit of one node's removal of every load container (kill + rm); measured 10-40 s. */
const removeLimitMs = 150_000;
let nodes: readonly NodeConfig[] = [];
let skipReason: string | undefined;

function report(line: string): void { process.stdout.write(`# load: ${line}\n`); }
function mb(n: number): string { return `${Math.round(n / 1048576)} MB`; }

async function run(n: NodeConfig, what: string, command: string, timeoutMs: number): Promise<Cmd> {
  const r = await sshAsync(n.host, command, timeoutMs);
  assert.equal(r.code, 0, `${what} on ${n.name} (exit ${r.code} after ${r.ms} ms): ${r.err.slice(-500)}`);
  return r;
}

/** Names prefix+from..to on one node: `docker run -d` (running) or `docker create`, `parallel` at a time. */
async function make(n: NodeConfig, image: string, from: number, to: number, running: boolean): Promise<void> {
  if (to < from) { return; }
  // running ones end by themselves after 15 min should every cleanup fail; created ones never start
  const cmd = running ? `docker run -d --log-driver none --name ${prefix}{} ${image} sleep 900` : `docker create --log-driver none --name ${prefix}{} ${image} true`;
  await run(n, running ? 'docker run' : 'docker create', `seq ${from} ${to} | xargs -P ${parallel} -I{} ${cmd} >/dev/null`, 240_000);
}

/**
 * Removes every container whose name starts with `namePrefix` on a node: kills the running ones, then
 * removes all, each in sequential batches of 100. Returns ms. A removal that overruns `removeLimitMs`
 * gets a goroutine dump of the node's dockerd, a dockerd restart and one more try (removeByPrefixBounded);
 * throws when containers are still left.
 */
async function removeAll(n: NodeConfig, namePrefix: string): Promise<number> {
  const r = await removeByPrefixBounded(n.name, n.host, namePrefix, removeLimitMs);
  if (r.restarted) { report(`${n.name}: removing ${namePrefix}* stalled in dockerd; goroutine dump requested (goroutine-stacks-*.log under /var/run/docker in the node), dockerd restarted, removal retried`); }
  if (r.cmd.code === 0 && r.cmd.out.trim() === '0') { return r.ms; }
  throw new Error(`removing ${namePrefix}* on ${n.name}: exit ${r.cmd.code} after ${r.ms} ms, left ${r.cmd.out.trim() || '?'}: ${r.cmd.err.slice(-300)}`);
}

/** name + state of every container on the node, and the network ids, from the docker CLI. */
async function cliView(n: NodeConfig): Promise<{ containers: string[]; networks: string[] }> {
  const ps = await run(n, 'docker ps', "docker ps -a --no-trunc --format '{{.Names}} {{.State}}'", 60_000);
  const nets = await run(n, 'docker network ls', "docker network ls --no-trunc --format '{{.ID}}'", 60_000);
  return { containers: ps.out.split('\n').filter((l) => l !== '').sort(), networks: nets.out.split('\n').filter((l) => l !== '').sort() };
}

function serviceView(s: TopologySnapshot, node: string): { containers: string[]; networks: string[] } {
  const rec = nodeOf(s, node);
  return { containers: rec.containers.map((c) => `${c.name} ${c.state}`).sort(), networks: rec.networks.map((x) => x.id).sort() };
}

/** Waits until the snapshot equals the docker CLI on every node (re-reading the CLI when it differs). Returns ms. */
async function converge(service: TopologyService, what: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let diff = '';
  while (Date.now() - t0 < timeoutMs) {
    const views = await Promise.all(nodes.map(cliView));
    const bad = nodes.map((n, i) => viewDifference(n.name, views[i]!, serviceView(service.snapshot(), n.name), 'snapshot')).filter((x) => x !== undefined);
    if (bad.length === 0) { return Date.now() - t0; }
    diff = bad.join('; ');
    // wait for the next snapshot change (or 1 s)
    await new Promise<void>((resolve) => {
      const sub = service.onDidChange(() => { clearTimeout(timer); sub.dispose(); resolve(); });
      const timer = setTimeout(() => { sub.dispose(); resolve(); }, 1000);
    });
  }
  throw new Error(`${what}: the snapshot does not match the docker CLI after ${timeoutMs} ms: ${diff}`);
}

function ofPrefix(s: TopologySnapshot, node: string): { all: number; running: number } {
  const mine = nodeOf(s, node).containers.filter((c) => c.name.startsWith(prefix));
  return { all: mine.length, running: mine.filter((c) => c.state === 'running').length };
}

describe('load against the local lab', { timeout: 600_000 }, () => {
  before(async () => {
    if (process.env['DOCKER_NET_LAB_LOAD'] === '0') { skipReason = 'DOCKER_NET_LAB_LOAD=0 skips the load test'; return; }
    const r = labNodesOrReason();
    if ('reason' in r) { skipReason = r.reason; return; }
    nodes = r.nodes;
    switchedBack = await leaveClusterMode(nodes.map((n) => n.host));
    if (switchedBack.length > 0) { report(`dockerd switched from the etcd cluster store to plain flags on ${switchedBack.join(', ')} for this test`); }
    // leftovers of an earlier run (any pid)
    const swept = await Promise.all(nodes.map(async (n) => removeAll(n, basePrefix)));
    report(`sweep of earlier ${basePrefix}* containers: ${swept.map((ms) => `${ms} ms`).join(', ')}`);
  });
  after(async () => {
    if (skipReason !== undefined) { return; }
    await Promise.all(nodes.map(async (n) => removeAll(n, prefix).catch((e: unknown) => { report(`after: ${e instanceof Error ? e.message : String(e)}`); })));
    await restoreClusterMode(switchedBack);
  });

  it(`${perNode} containers per node (running and created) and bursts of create/remove: the snapshot equals the docker CLI after each phase`, { timeout: 420_000 }, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const images = nodes.map((n) => probeImage(n.host));
    const service = labTopology(nodes);
    const rows: string[] = [];
    let peakRss = 0;
    let peakHeap = 0;
    const phase = async (name: string, body: () => Promise<void>): Promise<number> => {
      const t0 = Date.now();
      await body();
      const made = Date.now() - t0;
      const conv = await converge(service, name, 60_000);
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      const counts = nodes.map((n) => { const c = ofPrefix(service.snapshot(), n.name); return `${c.all} (${c.running} running)`; }).join(' / ');
      const line = `${name}: docker ${made} ms, snapshot matched ${conv} ms later; load containers per node ${counts}; rss ${mb(m.rss)} heap ${mb(m.heapUsed)}`;
      rows.push(line);
      report(line);
      return made;
    };
    try {
      await service.connect();
      await waitFor(service, (s) => s.nodes.every((n) => n.state === 'online'), 15_000, 'both nodes online');
      await phase('baseline', () => Promise.resolve());
      const runMs = await phase(`docker run -d ${runningPerNode} per node`, async () => {
        await Promise.all(nodes.map((n, i) => make(n, images[i]!, 1, runningPerNode, true)));
      });
      const createMs = await phase(`docker create ${perNode - runningPerNode} per node`, async () => {
        await Promise.all(nodes.map((n, i) => make(n, images[i]!, runningPerNode + 1, perNode, false)));
      });
      const rate = (ms: number, count: number): string => (count === 0 ? '-' : `${((count * nodes.length) / (ms / 1000)).toFixed(1)}/s`);
      report(`reached ${perNode} per node (${runningPerNode} running + ${perNode - runningPerNode} created); over both nodes docker run ${rate(runMs, runningPerNode)}, docker create ${rate(createMs, perNode - runningPerNode)}`);
      for (const n of nodes) {
        assert.deepEqual(ofPrefix(service.snapshot(), n.name), { all: perNode, running: runningPerNode }, `${n.name}: load containers in the snapshot`);
      }
      for (let b = 1; b <= bursts; b++) {
        const from = 100_000 + b * 1000;
        await phase(`burst ${b}: create ${burstSize} + remove ${burstSize} per node`, async () => {
          await Promise.all(nodes.map(async (n, i) => {
            // created, not started: the burst loads the event stream and resyncs, not the container runtime
            await run(n, 'burst create', `seq ${from} ${from + burstSize - 1} | xargs -P ${parallel} -I{} docker create --log-driver none --name ${prefix}{} ${images[i]!} true >/dev/null`, 120_000);
            await run(n, 'burst remove', `seq ${from} ${from + burstSize - 1} | sed 's/^/${prefix}/' | xargs -n ${burstSize} docker rm >/dev/null`, 120_000);
          }));
        });
      }
      const removeMs: number[] = [];
      await phase('remove all (kill running, then rm, sequential batches of 100)', async () => {
        removeMs.push(...await Promise.all(nodes.map(async (n) => removeAll(n, prefix))));
      });
      report(`removal per node: ${removeMs.map((ms) => `${ms} ms`).join(', ')}`);
      const m = process.memoryUsage();
      report(`test process (holds the TopologyService): peak rss ${mb(peakRss)} heap ${mb(peakHeap)}; now rss ${mb(m.rss)} heap ${mb(m.heapUsed)}`);
      assert.deepEqual(nodes.map((n) => ofPrefix(service.snapshot(), n.name).all), nodes.map(() => 0), 'no load container left in the snapshot');
      assert.equal(rows.length, bursts + 4, 'every phase ran');
    } finally {
      service.dispose();
      await Promise.all(nodes.map(async (n) => removeAll(n, prefix).catch((e: unknown) => { report(`cleanup: ${e instanceof Error ? e.message : String(e)}`); return 0; })));
    }
  });
});
