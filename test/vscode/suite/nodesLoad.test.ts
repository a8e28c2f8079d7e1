// Load inside a real VS Code: 500 containers per node on the local lab (a share running, the rest created
// and not started), made by this test over the ssh CLI with the lab key. The Lab Nodes tree data (through
// the extension's test API) must list exactly what the docker CLI reports on each node (container names
// with their state icon, network names), then everything is removed and the tree must drop it. The tests
// run inside the extension host, so process.memoryUsage() here is the host's memory: printed before,
// after and at the peak, with a bound on heap growth. DOCKER_NET_LAB_LOAD=0 skips it; prefix dnl-load-vsc-.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { labNodesFile } from '../../../src/core/nodes/localLabPaths';
import type { NodesFile } from '../../../src/core/nodes/nodesFile';
import type { NodesTestApi } from '../../../src/vscode/nodes/registerNodes';
import type { NodesElement } from '../../../src/vscode/nodes/nodesViewModel';
import { containerStateIcon } from '../../../src/vscode/nodes/nodesViewModel';
import type { Cmd } from '../../lab/labHelpers';
import { leaveClusterMode, removeByPrefixBounded, restoreClusterMode, sshAsync, viewDifference } from '../../lab/reliabilityHelpers';
import { poll, until } from '../polling';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';
const basePrefix = 'dnl-load-vsc-';
const prefix = `${basePrefix}${process.pid}-`;
const perNode = 500;
const runningPerNode = 100;
/** Heap growth of the extension host allowed between before and the peak. */
const heapBoundBytes = 200 * 1048576;

interface LabNode { name: string; host: string }

function mb(n: number): string { return `${Math.round(n / 1048576)} MB`; }

function labNodes(): LabNode[] | undefined {
  try {
    const f = JSON.parse(fs.readFileSync(labNodesFile(), 'utf8')) as NodesFile;
    return f.nodes.map((n) => ({ name: n.name, host: n.host }));
  } catch {
    return undefined;
  }
}

async function mustSsh(n: LabNode, what: string, command: string, timeoutMs: number): Promise<Cmd> {
  const r = await sshAsync(n.host, command, timeoutMs);
  assert.equal(r.code, 0, `${what} on ${n.name} (exit ${r.code} after ${r.ms} ms): ${r.err.slice(-400)}`);
  return r;
}

/** Kills the running ones, then removes all, in sequential batches (bounded; never parallel rm -f of running containers). */
async function removeByPrefix(n: LabNode, namePrefix: string): Promise<Cmd> {
  const r = await removeByPrefixBounded(n.name, n.host, namePrefix, 90_000);
  if (r.restarted) { console.log(`    ${n.name}: removing ${namePrefix}* stalled in dockerd; goroutine dump requested, dockerd restarted, removal retried`); }
  return { ...r.cmd, ms: r.ms };
}

/** "name icon" of every container and the network names, as the docker CLI reports them. */
async function cliView(n: LabNode): Promise<{ containers: string[]; networks: string[] }> {
  const ps = await mustSsh(n, 'docker ps', "docker ps -a --format '{{.Names}} {{.State}}'", 60_000);
  const nets = await mustSsh(n, 'docker network ls', "docker network ls --format '{{.Name}}'", 60_000);
  return {
    containers: ps.out.split('\n').filter((l) => l !== '').map((l) => { const [name = '', state = ''] = l.split(' '); return `${name} ${containerStateIcon(state).id}`; }).sort(),
    networks: nets.out.split('\n').filter((l) => l !== '').sort(),
  };
}

function label(t: NodesTestApi, e: NodesElement): string {
  const l = t.nodesTree.getTreeItem(e).label;
  return typeof l === 'string' ? l : (l?.label ?? '');
}

function childByLabel(t: NodesTestApi, parent: NodesElement | undefined, name: string): NodesElement | undefined {
  return t.nodesTree.getChildren(parent).find((e) => label(t, e) === name);
}

/** What the Lab Nodes tree lists under a node: "name icon" per container, network names. */
function treeView(t: NodesTestApi, node: string): { containers: string[]; networks: string[] } {
  const n = childByLabel(t, undefined, node);
  const group = (g: string): NodesElement[] => { const e = n === undefined ? undefined : childByLabel(t, n, g); return e === undefined ? [] : t.nodesTree.getChildren(e); };
  return {
    containers: group('Containers').map((e) => {
      const icon = t.nodesTree.getTreeItem(e).iconPath;
      return `${label(t, e)} ${icon instanceof vscode.ThemeIcon ? icon.id : '?'}`;
    }).sort(),
    networks: group('Networks').map((e) => label(t, e)).sort(),
  };
}

/** Polls until the tree equals the docker CLI on every node (the CLI re-read each round); returns ms or throws with the difference. */
async function treeMatchesCli(t: NodesTestApi, nodes: LabNode[], what: string, timeoutMs: number): Promise<number> {
  let diff = '';
  const matched = await poll(timeoutMs, async () => {
    const views = await Promise.all(nodes.map(cliView));
    const bad = nodes.map((n, i) => viewDifference(n.name, views[i]!, treeView(t, n.name), 'tree')).filter((x) => x !== undefined);
    if (bad.length === 0) { return true; }
    diff = bad.join('; ');
    return undefined;
  }, 250);
  if (matched.value === undefined) { throw new Error(`${what}: the Lab Nodes tree does not match the docker CLI after ${timeoutMs} ms: ${diff}`); }
  return matched.ms;
}

suite('Lab Nodes tree under load', function () {
  const nodes = labNodes();
  let t: NodesTestApi;
  let skipReason: string | undefined;
  /** Nodes whose dockerd left the etcd cluster store for this suite (see leaveClusterMode). */
  let switchedBack: string[] = [];

  suiteSetup(async function () {
    this.timeout(420_000);
    if (process.env['DOCKER_NET_LAB_LOAD'] === '0') { skipReason = 'DOCKER_NET_LAB_LOAD=0 skips the load test'; }
    else if (nodes === undefined || nodes.length < 2) { skipReason = `no local lab nodes file with two nodes at ${labNodesFile()} (run "docker-net-lab lab up" as root)`; }
    if (skipReason !== undefined) { console.log(`    skipped: ${skipReason}`); this.skip(); }
    const ext = vscode.extensions.getExtension<NodesTestApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    t = await ext.activate();
    switchedBack = await leaveClusterMode((nodes ?? []).map((n) => n.host));
    if (switchedBack.length > 0) { console.log(`    dockerd switched from the etcd cluster store to plain flags on ${switchedBack.join(', ')} for this suite`); }
    t.nodesTree.getChildren();
    await t.nodeServices.connect();
    // leftovers of an earlier run (any pid)
    for (const r of await Promise.all((nodes ?? []).map(async (n) => removeByPrefix(n, basePrefix)))) {
      assert.ok(r.code === 0 && r.out.trim() === '0', `sweep of ${basePrefix}*: exit ${r.code} after ${r.ms} ms, left ${r.out.trim()}: ${r.err.slice(-300)}`);
    }
  });

  suiteTeardown(async function () {
    if (skipReason !== undefined || nodes === undefined) { return; }
    this.timeout(420_000);
    await Promise.all(nodes.map(async (n) => removeByPrefix(n, prefix)));
    await restoreClusterMode(switchedBack);
  });

  test(`${perNode} containers per node: the tree lists what the docker CLI reports, drops them after removal; extension host memory stays bounded`, async function () {
    this.timeout(300_000);
    const all = nodes ?? [];
    const online = await until(45_000, () => {
      const s = t.nodeServices.snapshot();
      return all.every((n) => s.nodes.find((x) => x.name === n.name)?.state === 'online') ? true : undefined;
    }, 100);
    assert.ok(online, `nodes not online: ${JSON.stringify(t.nodeServices.snapshot().nodes.map((n) => [n.name, n.state]))}`);
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => { const m = process.memoryUsage(); peakRss = Math.max(peakRss, m.rss); peakHeap = Math.max(peakHeap, m.heapUsed); }, 200);
    try {
      const images = await Promise.all(all.map(async (n) => {
        const r = await mustSsh(n, 'docker images', "docker images --format '{{.Repository}}:{{.Tag}}'", 30_000);
        const img = r.out.split('\n').find((l) => l === 'busybox:latest') ?? r.out.split('\n').find((l) => l.startsWith('busybox:'));
        assert.ok(img, `no busybox image on ${n.name}`);
        return img;
      }));
      const t0 = Date.now();
      await Promise.all(all.map((n, i) => mustSsh(n, 'docker run',
        `seq 1 ${runningPerNode} | xargs -P 8 -I{} docker run -d --log-driver none --name ${prefix}{} ${images[i]!} sleep 900 >/dev/null`, 150_000)));
      const runMs = Date.now() - t0;
      await Promise.all(all.map((n, i) => mustSsh(n, 'docker create',
        `seq ${runningPerNode + 1} ${perNode} | xargs -P 8 -I{} docker create --log-driver none --name ${prefix}{} ${images[i]!} true >/dev/null`, 150_000)));
      const createMs = Date.now() - t0 - runMs;
      const shownMs = await treeMatchesCli(t, all, `${perNode} per node`, 60_000);
      for (const n of all) {
        const mine = treeView(t, n.name).containers.filter((c) => c.startsWith(prefix));
        assert.equal(mine.length, perNode, `${n.name}: load containers in the tree`);
        assert.equal(mine.filter((c) => c.endsWith(` ${containerStateIcon('running').id}`)).length, runningPerNode, `${n.name}: running load containers in the tree`);
        const group = childByLabel(t, childByLabel(t, undefined, n.name), 'Containers');
        assert.match(String(group === undefined ? '' : t.nodesTree.getTreeItem(group).description), /^\d+\/\d+ running$/);
      }
      const full = process.memoryUsage();
      const r0 = Date.now();
      const removed = await Promise.all(all.map(async (n) => removeByPrefix(n, prefix)));
      const removeMs = Date.now() - r0;
      removed.forEach((r, i) => assert.ok(r.code === 0 && r.out.trim() === '0', `removal on ${all[i]!.name}: exit ${r.code} after ${r.ms} ms, left ${r.out.trim()}: ${r.err.slice(-300)}`));
      const goneMs = await treeMatchesCli(t, all, 'after removal', 60_000);
      for (const n of all) { assert.equal(treeView(t, n.name).containers.filter((c) => c.startsWith(prefix)).length, 0, `${n.name}: load containers still in the tree`); }
      clearInterval(sampler);
      const after = process.memoryUsage();
      console.log(`# load: vscode: ${perNode} per node (${runningPerNode} running + ${perNode - runningPerNode} created): docker run ${runMs} ms, docker create ${createMs} ms; tree equal to the CLI ${shownMs} ms later; removal ${removeMs} ms, tree equal ${goneMs} ms later`);
      console.log(`# load: ext host rss ${mb(before.rss)} -> ${mb(full.rss)} with ${perNode}/node -> ${mb(after.rss)} after removal (peak ${mb(peakRss)}); heap ${mb(before.heapUsed)} -> ${mb(full.heapUsed)} -> ${mb(after.heapUsed)} (peak ${mb(peakHeap)})`);
      assert.ok(peakHeap - before.heapUsed < heapBoundBytes, `extension host heap grew by ${mb(peakHeap - before.heapUsed)} (bound ${mb(heapBoundBytes)})`);
    } finally {
      clearInterval(sampler);
      await Promise.all(all.map(async (n) => removeByPrefix(n, prefix)));
    }
  });
});
