import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DockerEngine } from '../../src/core/docker/dockerEngine';
import { isLabError } from '../../src/core/errors';
import type { Logger } from '../../src/core/logger';
import { redactingLogger } from '../../src/core/logger';
import { labKnownHostsFile, labNodesFile } from '../../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { readNodesFile } from '../../src/core/nodes/nodesFile';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import { createTopologyService } from '../../src/core/topology/topologyService';
import type { TopologySnapshot } from '../../src/core/topology/topologyTypes';
import type { TcpProbeResult } from './tcpEngineProbe';

// Live transport tests against the local two-node lab ("docker-net-lab lab up"). Each test skips with
// the reason when the lab is not up.
const root = path.resolve(__dirname, '..', '..', '..');
const cli = path.join(root, 'bin', 'docker-net-lab.js');
let nodes: readonly NodeConfig[] = [];
let skipReason: string | undefined;
let tmp = '';
const probeTag = `dnl-transport-${process.pid}`;

function sshArgs(n: NodeConfig, ...command: string[]): string[] {
  const kh = labKnownHostsFile();
  const hostKeyOpts = fs.existsSync(kh)
    ? ['-o', `UserKnownHostsFile=${kh}`, '-o', 'StrictHostKeyChecking=yes']
    : ['-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no'];
  return ['-i', n.keyFile!, ...hostKeyOpts, '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-p', String(n.port), `${n.user}@${n.host}`, ...command];
}

/** Runs the docker CLI on a node with the ssh CLI (independent of our transport). */
function dockerOverSsh(n: NodeConfig, args: string): string {
  return execFileSync('ssh', sshArgs(n, `docker ${args}`), { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** An image present on the node to start probe containers from (busybox preferred). */
function probeImage(n: NodeConfig): string | undefined {
  const images = dockerOverSsh(n, "images --format '{{.Repository}}:{{.Tag}}'").split('\n');
  return ['busybox:latest', 'busybox'].find((i) => images.includes(i)) ?? images.find((i) => i !== '' && !i.includes('<none>'));
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

interface CliView {
  networks: string[]; // "id name driver scope subnet"
  containers: string[]; // "name"
  endpoints: string[]; // "container network ipv4 mac"
}

function cliView(n: NodeConfig): CliView {
  const ids = dockerOverSsh(n, 'network ls -q --no-trunc').split('\n').filter((l) => l !== '');
  const nets = JSON.parse(dockerOverSsh(n, `network inspect ${ids.join(' ')}`)) as { Id: string; Name: string; Driver: string; Scope: string; IPAM: { Config: { Subnet?: string }[] | null } }[];
  const cids = dockerOverSsh(n, 'ps -aq --no-trunc').split('\n').filter((l) => l !== '');
  const cts = cids.length === 0 ? [] : JSON.parse(dockerOverSsh(n, `container inspect ${cids.join(' ')}`)) as { Name: string; NetworkSettings: { Networks: Record<string, { IPAddress: string; MacAddress: string }> } }[];
  return {
    networks: nets.map((x) => `${x.Id} ${x.Name} ${x.Driver} ${x.Scope} ${x.IPAM.Config?.[0]?.Subnet ?? ''}`).sort(),
    containers: cts.map((c) => c.Name.replace(/^\//, '')).sort(),
    endpoints: cts.flatMap((c) => Object.entries(c.NetworkSettings.Networks).map(([net, e]) => `${c.Name.replace(/^\//, '')} ${net} ${e.IPAddress} ${e.MacAddress}`)).sort(),
  };
}

function captureLogger(lines: string[]): Logger {
  const w = (m: string): void => { lines.push(m); };
  return { trace: w, debug: w, info: w, warn: w, error: w };
}

function waitFor(service: { snapshot(): TopologySnapshot; onDidChange(l: (s: TopologySnapshot) => void): { dispose(): void } },
  pred: (s: TopologySnapshot) => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (pred(service.snapshot())) { resolve(0); return; }
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`condition not met within ${timeoutMs} ms`)); }, timeoutMs);
    const sub = service.onDidChange((s) => {
      if (pred(s)) { clearTimeout(timer); sub.dispose(); resolve(Date.now() - t0); }
    });
  });
}

describe('transport against the local lab', () => {
  before(async () => {
    const file = labNodesFile();
    if (!fs.existsSync(file)) { skipReason = `the local lab is not up (no ${file}); start it with "docker-net-lab lab up" as root, or run the whole suite with "npm test", which brings it up`; return; }
    try {
      nodes = readNodesFile(file).nodes;
      for (const n of nodes) {
        const s = new NodeSession(n, { reconnect: false, readyTimeoutMs: 5000 });
        try {
          const r = await s.exec('docker version --format "{{.Server.Version}}"', { timeoutMs: 15_000 });
          if (r.code !== 0) { skipReason = `dockerd does not answer on ${n.name} (the lab is being changed?): ${r.stderr.trim()}`; return; }
          // leftovers of an earlier run that was cut short (e.g. the lab went down under it)
          await s.exec("docker ps -aq --filter name=^dnl-transport- | xargs -r docker rm -f; docker network ls -q --filter name=^dnl-transport- | xargs -r docker network rm", { timeoutMs: 30_000 });
        } finally { s.dispose(); }
      }
    } catch (e) {
      skipReason = `the local lab is not reachable: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    if (!fs.existsSync(cli) || !fs.existsSync(path.join(root, 'dist', 'cli.js'))) { skipReason = 'dist/cli.js is missing (run npm run build)'; }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-transport-'));
  });
  after(() => {
    if (tmp !== '') { fs.rmSync(tmp, { recursive: true, force: true }); }
  });

  it('tree --json agrees with docker network ls/inspect and docker ps over ssh on each node', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    // one running probe container per node, so that real addresses are compared
    const probes: [NodeConfig, string][] = [];
    t.after(() => { for (const [n, name] of probes) { try { dockerOverSsh(n, `rm -f ${name}`); } catch { /* gone */ } } });
    for (const [i, n] of nodes.entries()) {
      const image = probeImage(n);
      if (image === undefined) { continue; }
      const name = `${probeTag}-tree${i}`;
      dockerOverSsh(n, `run -d --name ${name} ${image} sleep 300`);
      probes.push([n, name]);
    }
    // other tests may change the lab meanwhile: accept a round where the CLI view is stable around tree
    let lastDiff = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      const beforeViews = nodes.map(cliView);
      const r = await runCli(['tree', '--json']);
      const afterViews = nodes.map(cliView);
      if (JSON.stringify(beforeViews) !== JSON.stringify(afterViews)) { lastDiff = 'lab changed during the comparison'; continue; }
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { nodes: { name: string; state: string; networks: { id: string; name: string; driver: string; scope: string; subnet: string; containers: { name: string; ipv4: string; mac: string; node: string }[] }[]; containers: { name: string; networks: Record<string, { ipv4: string; mac: string }> }[] }[]; multiHostNetworks: { name: string; nodes: string[] }[] };
      assert.deepEqual(doc.nodes.map((n) => n.name), nodes.map((n) => n.name));
      for (const [n, name] of probes) {
        const rec = doc.nodes.find((x) => x.name === n.name)!.containers.find((c) => c.name === name);
        assert.ok(rec !== undefined && Object.values(rec.networks).some((e) => /^\d+\.\d+\.\d+\.\d+$/.test(e.ipv4)), `probe ${name} with an IPv4 address`);
      }
      for (const [i, n] of doc.nodes.entries()) {
        const view = beforeViews[i]!;
        assert.equal(n.state, 'online');
        assert.deepEqual(n.networks.map((x) => `${x.id} ${x.name} ${x.driver} ${x.scope} ${x.subnet}`).sort(), view.networks, `networks of ${n.name}`);
        assert.deepEqual(n.containers.map((c) => c.name).sort(), view.containers, `containers of ${n.name}`);
        const endpoints = n.containers.flatMap((c) => Object.entries(c.networks).map(([net, e]) => `${c.name} ${net} ${e.ipv4} ${e.mac}`)).sort();
        assert.deepEqual(endpoints, view.endpoints, `addresses on ${n.name}`);
        // the same addresses appear under the networks, tagged with the node, without prefix length
        const members = n.networks.flatMap((x) => x.containers.map((c) => `${c.name} ${x.name} ${c.ipv4} ${c.mac}`)).sort();
        assert.deepEqual(members, view.endpoints);
        assert.ok(n.networks.every((x) => x.containers.every((c) => c.node === n.name && !c.ipv4.includes('/'))));
      }
      // a network with the same id on both nodes is listed once as multi-host
      const shared = beforeViews[0]!.networks.map((l) => l.split(' ')[0]!).filter((id) => beforeViews[1]!.networks.some((l) => l.startsWith(`${id} `)));
      assert.equal(doc.multiHostNetworks.filter((m) => m.nodes.length > 1).length, shared.length);
      return;
    }
    assert.fail(`could not get a stable comparison: ${lastDiff}`);
  });

  it('nodes --json reports every node reachable with its Docker version', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const r = await runCli(['nodes', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const doc = JSON.parse(r.stdout) as { nodes: { name: string; reachable: boolean; dockerVersion?: string; transport?: string }[] };
    assert.deepEqual(doc.nodes.map((n) => [n.name, n.reachable, n.transport]), nodes.map((n) => [n.name, true, n.docker?.transport === 'tcp' ? 'tcp' : 'streamlocal']));
    const v = dockerOverSsh(nodes[0]!, "version --format '{{.Server.Version}}'").trim();
    assert.equal(doc.nodes[0]!.dockerVersion, v);
  });

  it('the Docker API over SSH streamlocal and over plain TCP (docker.transport tcp, from node2) list the same engine', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node1 = nodes[0]!;
    const session = new NodeSession(node1, { reconnect: false });
    const viaSsh = new DockerEngine(node1, session);
    // the TCP client runs inside node2's namespace: the nodes' port guard drops 2375 from this machine
    const viaTcp = (): TcpProbeResult => JSON.parse(execFileSync('nsenter', ['--net=/run/netns/docker-node2', '--', process.execPath,
      path.join(__dirname, 'tcpEngineProbe.js'), labNodesFile(), '0'], { encoding: 'utf8', timeout: 60_000 })) as TcpProbeResult;
    try {
      let tcp: TcpProbeResult | undefined;
      for (let attempt = 0; ; attempt++) {
        const [a, c] = [await viaSsh.listNetworks(), await viaSsh.listContainers()];
        tcp = viaTcp();
        const same = JSON.stringify(a.map((n) => n.id).sort()) === JSON.stringify(tcp.networkIds)
          && JSON.stringify(c.map((x) => x.id).sort()) === JSON.stringify(tcp.containerIds);
        if (same || attempt === 3) {
          assert.ok(same, 'same networks and containers');
          break;
        }
      }
      assert.equal(viaSsh.transport, 'streamlocal');
      assert.equal(tcp.transport, 'tcp');
      assert.equal((await viaSsh.info()).name, tcp.infoName);
    } finally {
      viaSsh.dispose();
      session.dispose();
    }
  });

  it('a container started on node2 appears in the live snapshot within 1 s and disappears when removed', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node2 = nodes[1]!;
    const image = probeImage(node2);
    if (image === undefined) { t.skip('node2 has no image to start a container from'); return; }
    const service = createTopologyService({ nodes, fullResyncMs: 0 });
    const name = `${probeTag}-live`;
    try {
      await service.connect();
      assert.ok(service.snapshot().nodes.every((n) => n.state === 'online'), JSON.stringify(service.snapshot().nodes.map((n) => [n.name, n.state, n.error])));
      const shell = await service.shell(node2.name);
      const run = await shell.exec(`docker run -d --name ${name} ${image} sleep 300`);
      assert.equal(run.code, 0, run.stderr);
      const has = (s: TopologySnapshot): boolean => s.nodes[1]!.containers.some((c) => c.name === name && c.state === 'running');
      const appearedMs = await waitFor(service, has, 1000);
      const rec = service.snapshot().nodes[1]!.containers.find((c) => c.name === name)!;
      assert.equal(rec.node, node2.name);
      const ip = Object.values(rec.networks)[0]?.ipv4 ?? '';
      const cliIp = dockerOverSsh(node2, `inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ${name}`).trim();
      assert.equal(ip, cliIp);
      const rm = await shell.exec(`docker rm -f ${name}`);
      assert.equal(rm.code, 0, rm.stderr);
      const goneMs = await waitFor(service, (s) => !s.nodes[1]!.containers.some((c) => c.name === name), 1000);
      t.diagnostic(`appeared after ${appearedMs} ms, gone after ${goneMs} ms`);
    } finally {
      try { dockerOverSsh(node2, `rm -f ${name}`); } catch { /* already gone */ }
      service.dispose();
    }
  });

  it('refuses node1 with HostKeyChanged when its pinned fingerprint does not match, and runs nothing', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node1 = nodes[0]!;
    // a fingerprint of a key generated just now: certainly not node1's
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'fake_host')]);
    const fake = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(tmp, 'fake_host.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const probe = `${probeTag}-hostkey`;
    const pinned = new NodeSession({ ...node1, hostKeyFingerprints: [fake] }, { reconnect: false });
    await assert.rejects(pinned.exec(`docker network create ${probe}`), (e: unknown) => {
      assert.ok(isLabError(e, 'HostKeyChanged'), String(e));
      assert.ok(e.message.includes(fake));
      assert.ok(e.fix !== undefined);
      return true;
    });
    pinned.dispose();
    // the same through a known_hosts file holding another key for node1
    const kh = path.join(tmp, 'known_hosts');
    const pub = fs.readFileSync(path.join(tmp, 'fake_host.pub'), 'utf8').split(' ');
    fs.writeFileSync(kh, `# test\n${node1.port === 22 ? node1.host : `[${node1.host}]:${node1.port}`} ${pub[0]} ${pub[1]}\n`);
    const unpinned: NodeConfig = { ...node1 };
    delete (unpinned as { hostKeyFingerprints?: unknown }).hostKeyFingerprints;
    const viaFile = new NodeSession(unpinned, { reconnect: false, knownHostsFiles: [kh] });
    await assert.rejects(viaFile.exec(`docker network create ${probe}`), (e: unknown) => {
      assert.ok(isLabError(e, 'HostKeyChanged'), String(e));
      assert.ok(e.message.includes(`${kh} line 2`));
      assert.ok(e.fix?.includes(`ssh-keygen -R ${node1.host} -f ${kh}`));
      return true;
    });
    viaFile.dispose();
    const nets = dockerOverSsh(node1, "network ls --format '{{.Name}}'").split('\n');
    if (nets.includes(probe)) { dockerOverSsh(node1, `network rm ${probe}`); }
    assert.ok(!nets.includes(probe), 'the command must not have run on node1');
  });

  it('uses a passphrase-protected copy of the lab key with the passphrase from the provider, never logging it', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const node1 = nodes[0]!;
    const passphrase = `pp-${process.pid}-Qx7!`;
    const keyCopy = path.join(tmp, 'id_ed25519_pp');
    fs.copyFileSync(node1.keyFile!, keyCopy);
    fs.chmodSync(keyCopy, 0o600);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', passphrase, '-f', keyCopy]);
    assert.ok(fs.readFileSync(keyCopy, 'utf8').includes('BEGIN OPENSSH PRIVATE KEY'));
    const lines: string[] = [];
    const asked: string[] = [];
    const session = new NodeSession({ ...node1, keyFile: keyCopy }, {
      reconnect: false, logger: redactingLogger(captureLogger(lines)),
      secrets: { getSecret: (r) => { asked.push(r.kind); return Promise.resolve(passphrase); } },
    });
    const raw: string[] = [];
    try {
      const r = await session.exec(`echo ok; echo '${passphrase}' >&2`);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'ok\n');
      assert.ok(!r.stderr.includes(passphrase), 'stderr echo of the secret is redacted');
      assert.deepEqual(asked, ['passphrase']);
    } finally { session.dispose(); }
    // a wrong passphrase: AuthFailed, and neither passphrase in the error
    const wrong = new NodeSession({ ...node1, keyFile: keyCopy }, {
      reconnect: false, logger: captureLogger(raw),
      secrets: { getSecret: (r) => Promise.resolve(r.retry === true ? 'still-wrong-1' : 'wrong-pass-0') },
    });
    await assert.rejects(wrong.connect(), (e: unknown) => {
      assert.ok(isLabError(e, 'AuthFailed'), String(e));
      assert.ok(e.message.includes(keyCopy));
      for (const s of [passphrase, 'wrong-pass-0', 'still-wrong-1']) { assert.ok(!e.message.includes(s) && !(e.fix ?? '').includes(s)); }
      return true;
    });
    wrong.dispose();
    assert.ok(lines.length > 0);
    for (const l of [...lines, ...raw]) { assert.ok(!l.includes(passphrase), `log line leaks the passphrase: ${l}`); }
  });
});
