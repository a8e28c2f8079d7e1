import * as assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultLabDir, loadLab } from '../../src/core/lab/loadLab';
import { ProgressStore, progressKey } from '../../src/core/lab/progressStore';
import type { StepResult } from '../../src/core/lab/stepRunner';
import { StepRunner } from '../../src/core/lab/stepRunner';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import type { TopologyService } from '../../src/core/topology/topologyService';
import { lab, repoRoot, sh } from './labHelpers';
import {
  daemonPid, dockerCli, killSshd, labNodesOrReason, labTopology, nodeOf, probeImage, removeByPrefix, repairLab, setLink, shAsync, sshAsync,
  stopDaemon, waitFor, watchSshd,
} from './reliabilityHelpers';

// Fault tests on the shared local lab: sshd killed during a step, a node's link down for 10 s, dockerd
// restarted while events stream, and all daemons of a node stopped. Each scenario restores the lab in
// `finally` (lab up repairs daemons, the link is set up again) and prints what it measured.
// Run under the dev lock: flock /var/lib/docker-net-lab-dev.lock node scripts/run-node-tests.mjs lab out/test/lab --grep=reliability

const rejections: unknown[] = [];
process.on('unhandledRejection', (e) => { rejections.push(e); });

const prefix = `dnl-rel-${process.pid}-`;
let nodes: readonly NodeConfig[] = [];
let skipReason: string | undefined;
/** Reconnect budget after a node returns (the issue's target). */
const backWithinMs = 5000;

function measured(line: string): void { process.stdout.write(`# reliability: ${line}\n`); }

function ipOf(n: NodeConfig): string { return n.host; }

/** Creates a probe container with the docker CLI; resolves with the ms from its creation (docker's Created) to its appearance in the snapshot. */
async function probeLatency(service: TopologyService, n: NodeConfig, name: string, timeoutMs: number): Promise<number> {
  const image = probeImage(ipOf(n));
  let seenAt = 0;
  const wait = waitFor(service, (s) => nodeOf(s, n.name).containers.some((c) => c.name === name), timeoutMs, `container ${name} on ${n.name}`)
    .then(() => { seenAt = Date.now(); });
  const r = await dockerCli(ipOf(n), `run -d --name ${name} ${image} sleep 600`);
  assert.equal(r.code, 0, r.err);
  await wait;
  const created = Date.parse((await dockerCli(ipOf(n), `inspect -f '{{.Created}}' ${name}`)).out.trim());
  assert.ok(Number.isFinite(created), 'docker reports the creation time');
  return Math.max(0, seenAt - created);
}

/** Records when a node's state changes (ms since the epoch), from now on. */
function watchStates(service: TopologyService, node: string): { log: { at: number; state: string }[]; firstNot(state: string, after: number): number | undefined; dispose(): void } {
  const log: { at: number; state: string }[] = [{ at: Date.now(), state: nodeOf(service.snapshot(), node).state }];
  const sub = service.onDidChange((s) => {
    const st = nodeOf(s, node);
    const label = `${st.state}${st.error === undefined ? '' : `:${st.error.code}`}`;
    if (log.at(-1)?.state !== label) { log.push({ at: Date.now(), state: label }); }
  });
  return {
    log,
    firstNot: (state, after) => log.find((e) => e.at >= after && !e.state.startsWith(state))?.at,
    dispose: () => sub.dispose(),
  };
}

/**
 * `docker-net-lab tree --watch --json` in the background: records each state change of `node` from its
 * NDJSON output (ms since the epoch), so a test can see the CLI go offline and reconnect by itself.
 */
function watchCli(node: string): { log: { at: number; state: string }[]; child: ChildProcessWithoutNullStreams; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'tree', '--watch', '--json'], { stdio: 'pipe' });
  const log: { at: number; state: string }[] = [];
  let buf = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const doc = JSON.parse(line) as { nodes: { name: string; state: string }[] };
      const state = doc.nodes.find((n) => n.name === node)?.state ?? 'missing';
      if (log.at(-1)?.state !== state) { log.push({ at: Date.now(), state }); }
    }
  });
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code); }); });
  return {
    log, child,
    stop: async () => {
      if (child.exitCode === null) { child.kill('SIGINT'); }
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

describe('reliability against the local lab', { timeout: 600_000 }, () => {
  before(() => {
    const r = labNodesOrReason();
    if ('reason' in r) { skipReason = r.reason; return; }
    nodes = r.nodes;
    for (const n of nodes) { removeByPrefix(ipOf(n), 'dnl-rel-'); }
  });
  after(() => {
    for (const n of nodes) { removeByPrefix(ipOf(n), prefix); }
  });

  it('sshd killed during a step: offline, clean failure, reconnect after lab up, events resume, progress kept, re-run passes', { timeout: 180_000 }, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node1 = nodes[0]!;
    const labDef = loadLab(defaultLabDir('docker-networking', path.join(repoRoot, 'out')));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-rel-progress-'));
    const file = path.join(dir, 'progress.json');
    const key = progressKey(labDef.id, nodes.map((n) => n.host));
    const service = labTopology(nodes);
    const before = rejections.length;
    let armed = false;
    let killedAt = 0;
    try {
      await service.connect();
      await waitFor(service, (s) => s.nodes.every((n) => n.state === 'online'), 15_000, 'both nodes online');
      const watch = watchStates(service, node1.name);
      const runner = new StepRunner({
        lab: labDef, shells: service, progress: new ProgressStore(file, key),
        hosts: Object.fromEntries(nodes.map((n) => [n.name, n.host])),
        confirm: () => Promise.resolve(true),
        onEvent: (e) => {
          if (armed && e.type === 'command') { armed = false; killedAt = Date.now(); killSshd(node1.name); }
        },
      });
      const first = await runner.runStep('ch1-run-web');
      assert.equal(first.status, 'passed', first.message);

      armed = true;
      let broken: StepResult | undefined;
      let thrown: unknown;
      try { broken = await runner.runStep('ch1-curl-container-ip'); } catch (e) { thrown = e; }
      assert.ok(killedAt > 0, 'sshd was killed while the step ran a command');
      assert.equal(thrown, undefined, `runStep returns a result instead of throwing: ${String(thrown)}`);
      assert.equal(broken?.status, 'failed', `the step fails: ${broken?.status}: ${broken?.message}`);
      await waitFor(service, (s) => nodeOf(s, node1.name).state === 'offline', 15_000, `${node1.name} offline`);
      measured(`sshd kill: step failed after ${broken.durationMs} ms ("${broken.message}"); node offline ${(watch.firstNot('online', killedAt) ?? Date.now()) - killedAt} ms after the kill`);

      const kept = new ProgressStore(file, key).step('ch1-run-web');
      assert.equal(kept?.status, 'passed', 'the progress recorded before the failure is still there');

      const sshd = watchSshd(ipOf(node1));
      const up = await repairLab();
      await waitFor(service, (s) => nodeOf(s, node1.name).state === 'online', backWithinMs, `${node1.name} online again`);
      const onlineAt = Date.now();
      sshd.stop();
      watch.dispose();
      const returnedAt = sshd.returnedAt() ?? onlineAt;
      measured(`sshd kill: lab up took ${up.ms} ms; sshd answered ${returnedAt - killedAt} ms after the kill; session online ${onlineAt - returnedAt} ms after sshd returned; states ${watch.log.map((e) => `${e.state}@${e.at - killedAt}`).join(' ')}`);
      assert.ok(onlineAt - returnedAt <= backWithinMs, `reconnected within ${backWithinMs} ms of sshd returning (${onlineAt - returnedAt} ms)`);
      const latency = await probeLatency(service, node1, `${prefix}s1`, backWithinMs);
      measured(`sshd kill: a new container appeared in the snapshot ${latency} ms after docker run started`);

      const again = await runner.runStep('ch1-curl-container-ip');
      assert.equal(again.status, 'passed', again.message);
      assert.deepEqual(rejections.slice(before), [], 'no unhandled rejections');
    } finally {
      service.dispose();
      if (lab('status').code !== 0) { await repairLab(); }
      await dockerCli(ipOf(node1), 'rm -f web');
      removeByPrefix(ipOf(node1), prefix);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('link down for 10 s: offline within the keepalive window, online within 5 s of the link returning, events resume', { timeout: 120_000 }, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node2 = nodes[1]!;
    // keepalive 1 s (ssh2 drops after 3 missed answers): the product default of 10 s would not notice a 10-s outage
    const keepaliveMs = 1000;
    const service = labTopology(nodes, { keepaliveIntervalMs: keepaliveMs });
    const before = rejections.length;
    let linkDownAt = 0;
    try {
      await service.connect();
      await waitFor(service, (s) => s.nodes.every((n) => n.state === 'online'), 15_000, 'both nodes online');
      const down = setLink(node2.name, false);
      assert.equal(down.code, 0, down.err);
      linkDownAt = Date.now();
      const toOffline = await waitFor(service, (s) => nodeOf(s, node2.name).state !== 'online', 10_000, `${node2.name} offline`);
      measured(`link down: offline ${toOffline} ms after the link went down (keepalive ${keepaliveMs} ms x 3); state ${nodeOf(service.snapshot(), node2.name).state}`);
      assert.ok(toOffline <= keepaliveMs * 5, `offline within the keepalive window (${toOffline} ms)`);
      const rest = 10_000 - (Date.now() - linkDownAt);
      if (rest > 0) { await new Promise((r) => setTimeout(r, rest)); }
      const upCmd = setLink(node2.name, true);
      assert.equal(upCmd.code, 0, upCmd.err);
      linkDownAt = 0;
      const back = await waitFor(service, (s) => nodeOf(s, node2.name).state === 'online', backWithinMs, `${node2.name} online after the link returned`);
      measured(`link down: online ${back} ms after the link returned`);
      const latency = await probeLatency(service, node2, `${prefix}l1`, backWithinMs);
      measured(`link down: new container in the snapshot after ${latency} ms`);
      // dockerd with the cluster store answers /networks and /info seconds late after a partition; the container list must not wait for them
      assert.ok(latency <= 1000, `a container created after the link returned is shown within 1 s (${latency} ms)`);
      assert.deepEqual(rejections.slice(before), [], 'no unhandled rejections');
    } finally {
      service.dispose();
      if (linkDownAt !== 0 || sh('ip', ['-n', node2.name, '-br', 'link', 'show', 'eth0']).out.includes('DOWN')) { setLink(node2.name, true); }
      removeByPrefix(ipOf(node2), prefix);
    }
  });

  it('dockerd restarted while events stream: engine unavailable or resynced, then events resume (new container <= 1 s)', { timeout: 120_000 }, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node1 = nodes[0]!;
    const service = labTopology(nodes);
    const before = rejections.length;
    const states: string[] = [];
    try {
      await service.connect();
      await waitFor(service, (s) => s.nodes.every((n) => n.state === 'online'), 15_000, 'both nodes online');
      const syncedBefore = nodeOf(service.snapshot(), node1.name).syncedAt ?? 0;
      const sub = service.onDidChange((s) => {
        const n = nodeOf(s, node1.name);
        const st = `${n.state}${n.error === undefined ? '' : `:${n.error.code}`}`;
        if (states.at(-1) !== st) { states.push(st); }
      });
      const t0 = Date.now();
      const r = await sshAsync(ipOf(node1), 'lab-dockerd restart');
      assert.equal(r.code, 0, `lab-dockerd restart: ${r.out}${r.err}`);
      const restartMs = Date.now() - t0;
      const settled = await waitFor(service, (s) => { const n = nodeOf(s, node1.name); return n.state === 'online' && n.error === undefined && (n.syncedAt ?? 0) > t0; }, 10_000, `${node1.name} online after the restart`);
      sub.dispose();
      const syncedAfter = nodeOf(service.snapshot(), node1.name).syncedAt ?? 0;
      measured(`dockerd restart: took ${restartMs} ms; node states seen: ${states.join(' -> ') || '(none)'}; resynced ${settled} ms after the restart returned`);
      assert.ok(states.some((s) => s !== 'online') || syncedAfter > syncedBefore, 'the service noticed (engine unavailable) or resynced');
      // the follower re-subscribes within ~1 s of the stream ending; give it that before measuring
      const latencies: number[] = [];
      for (let i = 0; i < 3; i++) { latencies.push(await probeLatency(service, node1, `${prefix}d${i}`, 5000)); }
      measured(`dockerd restart: new containers appeared after ${latencies.join(', ')} ms`);
      assert.ok(Math.min(...latencies) <= 1000, `a container created after the restart appears within 1 s (${latencies.join(', ')} ms)`);
      assert.deepEqual(rejections.slice(before), [], 'no unhandled rejections');
    } finally {
      service.dispose();
      if (lab('status').code !== 0) { await repairLab(); }
      removeByPrefix(ipOf(node1), prefix);
    }
  });

  it('sshd, dockerd and etcd of a node stopped for 15 s, then lab up: online within 5 s, tree --json works again', { timeout: 180_000 }, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node2 = nodes[1]!;
    const service = labTopology(nodes);
    const before = rejections.length;
    const cli = watchCli(node2.name);
    try {
      await service.connect();
      await waitFor(service, (s) => s.nodes.every((n) => n.state === 'online'), 15_000, 'both nodes online');
      const cliReady = Date.now();
      while (cli.log.at(-1)?.state !== 'online' && Date.now() - cliReady < 15_000) { await new Promise((r) => setTimeout(r, 100)); }
      assert.equal(cli.log.at(-1)?.state, 'online', `tree --watch shows ${node2.name} online first (states: ${JSON.stringify(cli.log)})`);
      assert.ok(daemonPid(node2.name, 'sshd') !== undefined, 'sshd pidfile');
      const watch = watchStates(service, node2.name);
      const t0 = Date.now();
      await stopDaemon(node2.name, 'dockerd');
      await stopDaemon(node2.name, 'etcd');
      const sshdAt = Date.now();
      killSshd(node2.name);
      await waitFor(service, (s) => nodeOf(s, node2.name).state === 'offline', 15_000, `${node2.name} offline`);
      measured(`node stop: stopping dockerd+etcd took ${sshdAt - t0} ms; first non-online state ${(watch.firstNot('online', t0) ?? Date.now()) - t0} ms after the stop began; offline ${(watch.log.find((e) => e.state.startsWith('offline'))?.at ?? Date.now()) - sshdAt} ms after sshd was killed`);
      const treeDown = await shAsync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'tree', '--json'], 60_000);
      // stay down for 15 s, like a short reboot: long enough for several reconnect attempts to back off
      const rest = 15_000 - (Date.now() - sshdAt);
      if (rest > 0) { await new Promise((r) => setTimeout(r, rest)); }
      const sshd = watchSshd(ipOf(node2));
      const up = await repairLab();
      // the node is back when lab up has restarted all its daemons: Docker answers without error within 5 s of that
      const back = await waitFor(service, (s) => { const n = nodeOf(s, node2.name); return n.state === 'online' && n.error === undefined; }, backWithinMs, `${node2.name} online after lab up`);
      const onlineAt = Date.now();
      sshd.stop();
      watch.dispose();
      const returnedAt = sshd.returnedAt() ?? onlineAt;
      // and the SSH session itself is up again within 5 s of sshd answering (lab up starts sshd before etcd and dockerd)
      const sessionAt = watch.log.find((e) => e.at > sshdAt && e.state.startsWith('online'))?.at;
      measured(`node stop: lab up took ${up.ms} ms; sshd answered ${returnedAt - sshdAt} ms after the kill; session online ${(sessionAt ?? onlineAt) - returnedAt} ms after sshd returned; Docker answering ${back} ms after lab up returned; tree exit while down: ${treeDown.code}; states ${watch.log.map((e) => `${e.state}@${e.at - t0}`).join(' ')}`);
      assert.ok(sessionAt !== undefined, `the session came back online (states ${watch.log.map((e) => e.state).join(' ')})`);
      assert.ok(sessionAt - returnedAt <= backWithinMs, `session online within ${backWithinMs} ms of sshd returning (${sessionAt - returnedAt} ms)`);
      const tree = await shAsync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'tree', '--json'], 60_000);
      assert.equal(tree.code, 0, tree.err);
      const doc = JSON.parse(tree.out) as { nodes: { name: string; state: string }[] };
      assert.deepEqual(doc.nodes.map((n) => [n.name, n.state]), nodes.map((n) => [n.name, 'online']));
      const latency = await probeLatency(service, node2, `${prefix}n1`, backWithinMs);
      measured(`node stop: new container in the snapshot after ${latency} ms`);
      // the CLI's own long-running watch went offline and came back by itself, as the extension's did
      const cliDeadline = returnedAt + backWithinMs;
      const cliOnline = (): { at: number; state: string } | undefined => cli.log.find((e) => e.at >= sshdAt && e.state === 'online');
      while (cliOnline() === undefined && Date.now() < cliDeadline) { await new Promise((r) => setTimeout(r, 100)); }
      const cliStates = cli.log.map((e) => `${e.state}@${e.at - t0}`).join(' ');
      assert.ok(cli.log.some((e) => e.at >= t0 && e.state !== 'online'), `tree --watch showed ${node2.name} not online while it was stopped (states: ${cliStates})`);
      const cliBack = cliOnline();
      assert.ok(cliBack !== undefined, `tree --watch shows ${node2.name} online within ${backWithinMs} ms of sshd returning (states: ${cliStates})`);
      measured(`node stop: docker-net-lab tree --watch online ${cliBack.at - returnedAt} ms after sshd returned; states ${cliStates}`);
      assert.ok(cliBack.at - returnedAt <= backWithinMs, `CLI online within ${backWithinMs} ms of sshd returning (${cliBack.at - returnedAt} ms)`);
      assert.equal(await cli.stop(), 0, 'tree --watch exits 0 on Ctrl-C');
      assert.deepEqual(rejections.slice(before), [], 'no unhandled rejections');
    } finally {
      await cli.stop();
      service.dispose();
      if (lab('status').code !== 0) { await repairLab(); }
      removeByPrefix(ipOf(node2), prefix);
    }
  });
});
