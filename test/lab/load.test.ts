import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import type { TopologyService } from '../../src/core/topology/topologyService';
import type { TopologySnapshot } from '../../src/core/topology/topologyTypes';
import { labNodesOrReason, labTopology, nodeOf, probeImage, sshAsync, waitFor } from './reliabilityHelpers';

// Load on the shared local lab: many running busybox containers per node (created in parallel batches by
// one remote shell per node), then bursts of create/remove (created, not started). After each phase the TopologyService snapshot
// must equal what the docker CLI reports on each node. Memory is the RSS of this test process, which
// holds the TopologyService (a stand-in for the extension host). Every container is removed in finally.
// Run under the dev lock: flock /var/lib/docker-net-lab-dev.lock node scripts/run-node-tests.mjs lab out/test/lab --grep=load

const prefix = `dnl-load-${process.pid}-`;
const wantPerNode = 500;
/** Budget for the bulk creation on both nodes together (the whole test stays within ~4 minutes). */
const createBudgetMs = 75_000;
const bursts = 5;
const burstSize = 50;
const parallel = 8;
let nodes: readonly NodeConfig[] = [];
let skipReason: string | undefined;

function report(line: string): void { process.stdout.write(`# load: ${line}\n`); }
function mb(n: number): string { return `${Math.round(n / 1048576)} MB`; }

/** One remote shell per node that runs `docker run -d` for names prefix+from..to, `parallel` at a time. */
async function createRange(n: NodeConfig, image: string, from: number, to: number): Promise<void> {
  if (to < from) { return; }
  const r = await sshAsync(n.host,
    `seq ${from} ${to} | xargs -P ${parallel} -I{} docker run -d --log-driver none --name ${prefix}{} ${image} sh -c 'while :; do sleep 60; done' >/dev/null`, 300_000);
  assert.equal(r.code, 0, `create on ${n.name}: ${r.err.slice(-500)}`);
}

async function removeAll(n: NodeConfig): Promise<void> {
  await sshAsync(n.host, `docker ps -aq --filter name=^${prefix} | xargs -r -n 50 -P 4 docker rm -f >/dev/null`, 300_000);
}

/** name -> state of every container on the node, from the docker CLI; and the network ids. */
async function cliView(n: NodeConfig): Promise<{ containers: string[]; networks: string[] }> {
  const ps = await sshAsync(n.host, "docker ps -a --no-trunc --format '{{.Names}} {{.State}}'");
  assert.equal(ps.code, 0, ps.err);
  const nets = await sshAsync(n.host, "docker network ls --no-trunc --format '{{.ID}}'");
  assert.equal(nets.code, 0, nets.err);
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
    const bad = nodes.map((n, i) => {
      const want = views[i]!;
      const got = serviceView(service.snapshot(), n.name);
      if (JSON.stringify(want) === JSON.stringify(got)) { return undefined; }
      const missing = want.containers.filter((c) => !got.containers.includes(c));
      const extra = got.containers.filter((c) => !want.containers.includes(c));
      return `${n.name}: cli ${want.containers.length} containers/${want.networks.length} networks, snapshot ${got.containers.length}/${got.networks.length}; missing ${missing.slice(0, 3).join(', ')} extra ${extra.slice(0, 3).join(', ')}`;
    }).filter((x) => x !== undefined);
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

describe('load against the local lab', { timeout: 600_000 }, () => {
  before(async () => {
    // Opt-in: in one CI run (2 cores, after the other lab suites) removing ~240 running containers per
    // node hung past the time limit; until that is understood the load test runs only when asked for.
    if (process.env['DOCKER_NET_LAB_LOAD'] !== '1') {
      skipReason = 'load test is opt-in (DOCKER_NET_LAB_LOAD=1): it takes minutes and once hung removing containers on a loaded 2-core CI run';
      return;
    }
    const r = labNodesOrReason();
    if ('reason' in r) { skipReason = r.reason; return; }
    nodes = r.nodes;
    await Promise.all(nodes.map(async (n) => sshAsync(n.host, 'docker ps -aq --filter name=^dnl-load- | xargs -r -n 50 docker rm -f >/dev/null', 300_000)));
  });
  after(async () => { if (skipReason === undefined) { await Promise.all(nodes.map(removeAll)); } });

  it('many containers per node and bursts of create/remove: the snapshot equals the docker CLI after each phase', { timeout: 420_000 }, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const images = nodes.map((n) => probeImage(n.host));
    const service = labTopology(nodes);
    const rows: string[] = [];
    const phase = async (name: string, body: () => Promise<void>): Promise<void> => {
      const t0 = Date.now();
      await body();
      const made = Date.now() - t0;
      const conv = await converge(service, name, 60_000);
      const m = process.memoryUsage();
      const counts = nodes.map((n) => nodeOf(service.snapshot(), n.name).containers.length).join('/');
      const line = `${name}: docker ${made} ms, snapshot matched ${conv} ms later; containers per node ${counts}; rss ${mb(m.rss)} heap ${mb(m.heapUsed)}`;
      rows.push(line);
      report(line);
    };
    try {
      await service.connect();
      await waitFor(service, (s) => s.nodes.every((n) => n.state === 'online'), 15_000, 'both nodes online');
      await phase('baseline', () => Promise.resolve());
      const c0 = Date.now();
      await phase('calibrate 20 per node', async () => { await Promise.all(nodes.map((n, i) => createRange(n, images[i]!, 1, 20))); });
      const perSecond = (20 * nodes.length) / ((Date.now() - c0) / 1000);
      const fits = Math.floor((perSecond * createBudgetMs) / 1000 / nodes.length);
      const perNode = Math.max(20, Math.min(wantPerNode, fits));
      report(`creation rate ${perSecond.toFixed(1)} containers/s over both nodes (incl. convergence); ${perNode} per node ${perNode < wantPerNode ? `(not ${wantPerNode}: at this rate ${wantPerNode} per node would take ~${Math.round((wantPerNode * nodes.length) / perSecond)} s, over the ${createBudgetMs / 1000}-s budget of this 2-core machine)` : ''}`);
      await phase(`create up to ${perNode} per node`, async () => { await Promise.all(nodes.map((n, i) => createRange(n, images[i]!, 21, perNode))); });
      for (let b = 1; b <= bursts; b++) {
        const from = 100_000 + b * 1000;
        await phase(`burst ${b}: create ${burstSize} + remove ${burstSize} per node`, async () => {
          await Promise.all(nodes.map(async (n, i) => {
            // created, not started: the burst loads the event stream and resyncs, not the container runtime
            const mk = await sshAsync(n.host, `seq ${from} ${from + burstSize - 1} | xargs -P ${parallel} -I{} docker create --log-driver none --name ${prefix}{} ${images[i]!} true >/dev/null`, 120_000);
            assert.equal(mk.code, 0, mk.err);
            const rm = await sshAsync(n.host, `seq ${from} ${from + burstSize - 1} | sed 's/^/${prefix}/' | xargs -n 25 -P 2 docker rm -f >/dev/null`, 120_000);
            assert.equal(rm.code, 0, rm.err);
          }));
        });
      }
      await phase('remove all', async () => { await Promise.all(nodes.map(removeAll)); });
      const left = nodes.map((n) => nodeOf(service.snapshot(), n.name).containers.filter((c) => c.name.startsWith(prefix)).length);
      assert.deepEqual(left, nodes.map(() => 0), 'no load container left in the snapshot');
      assert.ok(rows.length === bursts + 4, 'every phase ran');
    } finally {
      service.dispose();
      await Promise.all(nodes.map(removeAll));
    }
  });
});
