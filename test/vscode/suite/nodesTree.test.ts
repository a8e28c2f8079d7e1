// The Lab Nodes tree inside a real VS Code: against the local lab (both nodes online with their
// networks; a container started on node2 shows up within 1 s and goes away when removed), and a
// malformed dockerNetLab.nodes entry as an error item naming the field.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labNodesFile } from '../../../src/core/nodes/localLabPaths';
import type { NodesFile } from '../../../src/core/nodes/nodesFile';
import type { NodesTestApi } from '../../../src/vscode/nodes/registerNodes';
import type { NodesElement } from '../../../src/vscode/nodes/nodesViewModel';
import { poll, sleep } from '../polling';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';

async function api(): Promise<NodesTestApi> {
  const ext = vscode.extensions.getExtension<NodesTestApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = await ext.activate();
  assert.ok(exports?.nodesTree !== undefined, 'activate() returned no nodesTree');
  return exports;
}

function labels(t: NodesTestApi, parent?: NodesElement): { element: NodesElement; label: string; description: string }[] {
  return t.nodesTree.getChildren(parent).map((element) => {
    const item = t.nodesTree.getTreeItem(element);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    return { element, label, description: typeof item.description === 'string' ? item.description : '' };
  });
}

function child(t: NodesTestApi, parent: NodesElement | undefined, label: string): NodesElement | undefined {
  return labels(t, parent).find((x) => x.label === label)?.element;
}

function readLab(): NodesFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(labNodesFile(), 'utf8')) as NodesFile;
  } catch {
    return undefined;
  }
}

suite('Lab Nodes tree', () => {
  test('a malformed dockerNetLab.nodes entry is an error item naming the index and field; the others stay', async () => {
    const t = await api();
    const config = vscode.workspace.getConfiguration();
    const before = config.inspect('dockerNetLab.nodes')?.globalValue;
    try {
      await config.update('dockerNetLab.nodes', [
        // loopback only: if anything connects, it reaches this machine and nothing else
        { name: 'bad-port', host: '127.0.0.1', port: 70000, user: 'root', auth: 'agent' },
        { name: 'fine', host: '127.0.0.1', port: 9, user: 'root', auth: 'agent' },
      ], vscode.ConfigurationTarget.Global);
      const { value } = await poll(3000, () => labels(t).find((x) => x.label === 'dockerNetLab.nodes[0]: port'));
      assert.ok(value, `no error item; root: ${labels(t).map((x) => x.label).join(', ')}`);
      const item = t.nodesTree.getTreeItem(value.element);
      assert.equal(item.command?.command, 'dockerNetLab.node.openSettings');
      assert.ok(labels(t).some((x) => x.label === 'fine'), 'the valid entry is not shown');
    } finally {
      await config.update('dockerNetLab.nodes', before, vscode.ConfigurationTarget.Global);
    }
    const gone = await poll(3000, () => (labels(t).some((x) => x.label === 'fine') ? undefined : true));
    assert.ok(gone.value, 'the settings node did not go away after restoring the setting');
  });

  test('a node that cannot be reached shows the error as an item under it with a fix command, not a pop-up', async function () {
    this.timeout(30_000);
    const t = await api();
    const config = vscode.workspace.getConfiguration();
    const before = config.inspect('dockerNetLab.nodes')?.globalValue;
    const node = 'closed-port';
    try {
      // 127.0.0.1 port 9 (discard): nothing listens there on these machines, so the connection is refused
      await config.update('dockerNetLab.nodes', [{ name: node, host: '127.0.0.1', port: 9, user: 'root', auth: 'agent' }], vscode.ConfigurationTarget.Global);
      await poll(3000, () => (labels(t).some((x) => x.label === node) ? true : undefined));
      await t.nodeServices.connect(node);
      const { value } = await poll(10_000, () => {
        const n = child(t, undefined, node);
        return n === undefined ? undefined : labels(t, n)[0];
      });
      assert.ok(value, `no error item under ${node}; state ${JSON.stringify(t.nodeServices.snapshot().nodes.find((n) => n.name === node))}`);
      assert.match(value.label, /^(Unreachable — Retry|Authentication failed — Edit node)$/);
      const item = t.nodesTree.getTreeItem(value.element);
      assert.ok(['dockerNetLab.node.connect', 'dockerNetLab.node.edit'].includes(item.command?.command ?? ''), item.command?.command);
      assert.deepEqual(item.command?.arguments, [node]);
      const nodeItem = t.nodesTree.getTreeItem(child(t, undefined, node)!);
      assert.match(String(nodeItem.description), /127\.0\.0\.1 · (offline|error)/);
    } finally {
      await t.nodeServices.disconnect(node).catch(() => undefined);
      await config.update('dockerNetLab.nodes', before, vscode.ConfigurationTarget.Global);
    }
  });

  test('Add Node (typed user@host:port, validated) writes the setting; Remove Node asks first and removes it', async function () {
    this.timeout(30_000);
    const t = await api();
    const w = vscode.window as unknown as Record<string, unknown>;
    const saved = { showQuickPick: w['showQuickPick'], showInputBox: w['showInputBox'], showWarningMessage: w['showWarningMessage'], showInformationMessage: w['showInformationMessage'], showErrorMessage: w['showErrorMessage'] };
    const errors: string[] = [];
    const config = vscode.workspace.getConfiguration();
    const before = config.inspect('dockerNetLab.nodes')?.globalValue;
    const validation: (string | undefined)[] = [];
    let confirmAsked = 0;
    try {
      w['showQuickPick'] = (items: readonly (vscode.QuickPickItem & { auth?: string })[]) =>
        Promise.resolve(items.find((i) => i.auth === 'agent') ?? items[0]);
      w['showInputBox'] = (o: vscode.InputBoxOptions) => {
        if (o.title === 'Node address') {
          const v = (text: string): string | undefined => o.validateInput?.(text) as string | undefined;
          validation.push(v('root@host:99999'), v('Root!@host'), v('root@-oProxyCommand=x'), v('root@127.0.0.1:2222'));
          return Promise.resolve('root@127.0.0.1:2222');
        }
        return Promise.resolve(o.value); // the suggested node name
      };
      w['showInformationMessage'] = () => Promise.resolve(undefined);
      w['showErrorMessage'] = (m: string) => { errors.push(m); return Promise.resolve(undefined); };
      w['showWarningMessage'] = (_m: string, _o: unknown, ...items: string[]) => { confirmAsked++; return Promise.resolve(items.includes('Remove') ? 'Remove' : undefined); };
      await vscode.commands.executeCommand('dockerNetLab.node.add');
      assert.deepEqual(errors, [], 'Add Node reported an error');
      assert.match(validation[0] ?? '', /out of range/);
      assert.match(validation[1] ?? '', /not a valid user name/);
      assert.match(validation[2] ?? '', /not a valid host/);
      assert.equal(validation[3], undefined);
      const entries = config.inspect<unknown[]>('dockerNetLab.nodes')?.globalValue ?? [];
      const added = entries.find((e) => (e as { host?: string }).host === '127.0.0.1') as Record<string, unknown> | undefined;
      assert.deepEqual(added, { name: '127.0.0.1', host: '127.0.0.1', port: 2222, user: 'root', auth: 'agent' });
      assert.ok((await poll(3000, () => (labels(t).some((x) => x.label === '127.0.0.1') ? true : undefined))).value, 'added node not in the tree');

      await vscode.commands.executeCommand('dockerNetLab.node.remove', '127.0.0.1');
      assert.equal(confirmAsked, 1, 'Remove did not ask for confirmation');
      const after = config.inspect<unknown[]>('dockerNetLab.nodes')?.globalValue ?? [];
      assert.ok(!after.some((e) => (e as { host?: string }).host === '127.0.0.1'), 'node still in settings after Remove');
    } finally {
      Object.assign(w, saved);
      await config.update('dockerNetLab.nodes', before, vscode.ConfigurationTarget.Global);
    }
  });

  suite('against the local lab', function () {
    const lab = readLab();
    let t: NodesTestApi;
    const node2 = lab?.nodes[1]?.name ?? 'docker-node2';
    const name = `nodes-view-test-${process.pid}-${Date.now() % 100000}`;

    suiteSetup(async function () {
      if (lab === undefined) {
        console.log(`    skipped: no local lab nodes file at ${labNodesFile()} (run "docker-net-lab lab up" as root)`);
        this.skip();
      }
      this.timeout(60_000);
      t = await api();
      t.nodesTree.getChildren();
      await t.nodeServices.connect(); // never rejects for node failures: they show in the snapshot
      const all = lab?.nodes.map((n) => n.name) ?? [];
      const online = await poll(45_000, () => {
        const s = t.nodeServices.snapshot();
        return all.every((n) => s.nodes.find((x) => x.name === n)?.state === 'online') ? true : undefined;
      });
      const states = t.nodeServices.snapshot().nodes.map((n) => `${n.name}=${n.state}${n.error === undefined ? '' : ` (${n.error.code}: ${n.error.message})`}`);
      assert.ok(online.value, `nodes not online after 45 s: ${states.join(', ')}`);
      console.log(`    both nodes online after ${online.ms} ms`);
    });

    suiteTeardown(async function () {
      if (lab === undefined || t === undefined) { return; }
      this.timeout(30_000);
      try {
        const sh = await (await t.nodeServices.shells()).shell(node2);
        await sh.exec(`docker rm -f ${name} >/dev/null 2>&1 || true`, { timeoutMs: 20_000 });
      } catch (e) {
        // the lab may be gone (another run tore it down); its containers went with it
        console.log(`    cleanup of ${name} on ${node2} not possible: ${e instanceof Error ? e.message : String(e)}`);
      }
    });

    test('shows both nodes online with Docker version and their networks', () => {
      for (const n of lab?.nodes ?? []) {
        const item = labels(t).find((x) => x.label === n.name);
        assert.ok(item, `node ${n.name} missing from the tree`);
        assert.match(item.description, /Docker \d+\.\d+/);
        assert.ok(!/disconnected|offline|error/.test(item.description), item.description);
        const networks = child(t, item.element, 'Networks');
        assert.ok(networks, `${n.name} has no Networks group`);
        const nets = labels(t, networks);
        for (const expected of ['bridge', 'host', 'none']) {
          assert.ok(nets.some((x) => x.label === expected), `${n.name}: network ${expected} missing (has ${nets.map((x) => x.label).join(', ')})`);
        }
        const bridge = nets.find((x) => x.label === 'bridge');
        assert.match(bridge?.description ?? '', /^bridge · local · \d+\.\d+\.\d+\.\d+\/\d+/);
      }
    });

    test('Inspect Network opens the raw inspect JSON as a read-only docker-net-lab: document', async function () {
      this.timeout(30_000);
      const node1 = lab?.nodes[0]?.name ?? 'docker-node1';
      const networks = child(t, child(t, undefined, node1), 'Networks');
      const bridge = networks === undefined ? undefined : child(t, networks, 'bridge');
      assert.ok(bridge, 'bridge network item missing');
      await vscode.commands.executeCommand('dockerNetLab.network.inspect', bridge);
      const doc = vscode.window.activeTextEditor?.document;
      assert.equal(doc?.uri.scheme, 'docker-net-lab');
      const data = JSON.parse(doc.getText()) as { Name?: string; Driver?: string; IPAM?: unknown };
      assert.equal(data.Name, 'bridge');
      assert.equal(data.Driver, 'bridge');
      assert.ok(data.IPAM !== undefined);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    test('Open Terminal on Node reuses the open terminal of that node', async function () {
      this.timeout(30_000);
      const before = vscode.window.terminals.length;
      await vscode.commands.executeCommand('dockerNetLab.node.openTerminal', node2);
      await vscode.commands.executeCommand('dockerNetLab.node.openTerminal', node2);
      const mine = vscode.window.terminals.filter((x) => x.name === node2);
      assert.equal(vscode.window.terminals.length, before + 1, 'a second terminal was opened for the same node');
      assert.equal(mine.length, 1);
      mine[0]?.dispose();
    });

    test('Open Shell in Container types into docker exec -it <id> sh over the node session', async function () {
      this.timeout(60_000);
      const cname = `${name}-sh`;
      const sh = await (await t.nodeServices.shells()).shell(node2);
      try {
        const run = await sh.exec(`docker run -d --name ${cname} busybox sleep 600`, { timeoutMs: 30_000 });
        assert.equal(run.code, 0, `docker run failed: ${run.stderr}`);
        const id = run.stdout.trim();
        const item = await poll(3000, () => {
          const group = child(t, child(t, undefined, node2), 'Containers');
          return group === undefined ? undefined : child(t, group, cname);
        });
        assert.ok(item.value, `${cname} not in the tree`);
        await vscode.commands.executeCommand('dockerNetLab.container.openTerminal', item.value);
        const term = vscode.window.terminals.find((x) => x.name === `${cname} @ ${node2}`);
        assert.ok(term, `no terminal named "${cname} @ ${node2}"`);
        await sleep(1500); // the pty opens the exec channel
        term.sendText('touch /typed-in-vscode && exit');
        const done = await poll(10_000, () => (term.exitStatus !== undefined ? term.exitStatus : undefined));
        const check = await sh.exec(`docker exec ${id} ls /typed-in-vscode`, { timeoutMs: 20_000 });
        assert.equal(check.code, 0, `the command typed in the terminal did not run in the container (terminal exit ${JSON.stringify(done.value)}): ${check.stderr}`);
        assert.equal(done.value?.code, 0, 'the container shell did not exit with 0');
      } finally {
        await sh.exec(`docker rm -f ${cname} >/dev/null 2>&1; true`, { timeoutMs: 20_000 }).catch(() => undefined);
      }
    });

    test('an overlay network is shown once under Multi-host networks with members from both nodes', async function () {
      const mode = (lab?.lab as { mode?: unknown } | undefined)?.mode;
      if (mode !== 'cluster' && mode !== 'swarm') {
        console.log(`    skipped: the lab runs in mode ${String(mode)}, which has no multi-host networks`);
        this.skip();
      }
      this.timeout(90_000);
      const node1 = lab?.nodes[0]?.name ?? 'docker-node1';
      const shells = await t.nodeServices.shells();
      const sh1 = await shells.shell(node1);
      const sh2 = await shells.shell(node2);
      const net = `${name}-ovl`;
      // the lab's mode says how overlays work; check the node is really set up for it right now
      const probe = await sh1.exec(mode === 'swarm' ? "docker info --format '{{.Swarm.ControlAvailable}}'" : "docker info --format '{{.ClusterStore}}'", { timeoutMs: 20_000 });
      const ready = mode === 'swarm' ? probe.stdout.trim() === 'true' : probe.stdout.trim() !== '';
      if (!ready) {
        console.log(`    skipped: ${node1} is not ready for overlays in ${mode} mode (docker info: "${probe.stdout.trim()}" ${probe.stderr.trim()})`);
        this.skip();
      }
      try {
        const created = await sh1.exec(`docker network create -d overlay ${mode === 'swarm' ? '--attachable ' : ''}${net}`, { timeoutMs: 30_000 });
        assert.equal(created.code, 0, `network create failed: ${created.stderr}`);
        for (const [sh, c] of [[sh1, `${name}-a`], [sh2, `${name}-b`]] as const) {
          const r = await sh.exec(`docker run -d --name ${c} --network ${net} busybox sleep 600`, { timeoutMs: 30_000 });
          assert.equal(r.code, 0, `docker run on ${sh.node} failed: ${r.stderr}`);
        }
        const found = await poll(5000, () => {
          const group = child(t, undefined, 'Multi-host networks');
          const item = group === undefined ? undefined : child(t, group, net);
          if (item === undefined) { return undefined; }
          const members = labels(t, item);
          // the create event can show a member before start gave it its overlay address: wait for both
          return members.length === 2 && members.every((m) => /· \d+\.\d+\.\d+\.\d+$/.test(m.description)) ? members : undefined;
        });
        assert.ok(found.value, `${net} not shown with 2 addressed members under Multi-host networks within 5 s`);
        console.log(`    overlay shown with both members ${found.ms} ms after the second docker run returned`);
        const byNode = found.value.map((m) => `${m.label} ${m.description.split(' · ')[0] ?? ''}`).sort();
        assert.deepEqual(byNode, [`${name}-a ${node1}`, `${name}-b ${node2}`]);
        const underNode = child(t, child(t, child(t, undefined, node2), 'Networks'), net);
        assert.ok(underNode, `${net} not listed under ${node2}'s Networks`);
        assert.equal(t.nodesTree.getChildren(underNode).length, 0, 'members are listed once, under Multi-host networks');
        assert.match(t.nodesTree.getTreeItem(underNode).description as string, /multi-host/);
      } finally {
        await sh1.exec(`docker rm -f ${name}-a >/dev/null 2>&1; true`, { timeoutMs: 30_000 }).catch(() => undefined);
        await sh2.exec(`docker rm -f ${name}-b >/dev/null 2>&1; true`, { timeoutMs: 30_000 }).catch(() => undefined);
        await sh1.exec(`docker network rm ${net} >/dev/null 2>&1; true`, { timeoutMs: 30_000 }).catch(() => undefined);
      }
    });

    test('an unknown host key is asked about (SHA256 fingerprint) before connecting; refused → item, trusted → online and saved', async function () {
      this.timeout(60_000);
      const labNode = lab?.nodes[0];
      assert.ok(labNode?.keyFile !== undefined);
      const kh = t.nodeServices.acceptedKnownHosts;
      if (fs.existsSync(kh) && fs.readFileSync(kh, 'utf8').includes(labNode.host)) {
        console.log(`    skipped: ${kh} already trusts ${labNode.host}`);
        this.skip();
      }
      const window = vscode.window as { showWarningMessage: (...a: unknown[]) => Thenable<unknown> };
      const original = window.showWarningMessage;
      const asked: string[] = [];
      let answer: string | undefined;
      try {
        window.showWarningMessage = (message: unknown, options: unknown, ...items: unknown[]) => {
          const detail = (options as { detail?: string; modal?: boolean } | undefined);
          asked.push(`${String(message)}\n${detail?.modal === true ? 'modal' : 'not modal'}\n${detail?.detail ?? ''}\n${items.join('|')}`);
          return Promise.resolve(answer);
        };
      } catch {
        console.log('    skipped: vscode.window cannot be stubbed in this VS Code');
        this.skip();
      }
      const config = vscode.workspace.getConfiguration();
      const before = config.inspect('dockerNetLab.nodes')?.globalValue;
      const node = 'unpinned-node1';
      try {
        // node1 of the lab without its pinned fingerprint: its key is unknown to every known_hosts file the extension reads
        await config.update('dockerNetLab.nodes', [{ name: node, host: labNode.host, port: labNode.port, user: labNode.user, auth: 'key', keyFile: labNode.keyFile }], vscode.ConfigurationTarget.Global);
        await poll(3000, () => (labels(t).some((x) => x.label === node) ? true : undefined));
        answer = undefined; // "Cancel"
        await t.nodeServices.connect(node);
        const refused = await poll(5000, () => labels(t, child(t, undefined, node))[0]);
        assert.equal(asked.length, 1, 'the host key prompt was not shown exactly once');
        assert.match(asked[0] ?? '', /\nmodal\n/);
        for (const fp of labNode.hostKeyFingerprints ?? []) { assert.ok(asked[0]?.includes(fp), `prompt does not show ${fp}: ${asked[0]}`); }
        assert.match(asked[0] ?? '', /Trust and connect/);
        assert.equal(refused.value?.label, 'Host key not trusted — Connect to review it');
        await t.nodeServices.disconnect(node);

        answer = 'Trust and connect';
        await t.nodeServices.connect(node);
        const online = await poll(10_000, () => (t.nodeServices.snapshot().nodes.find((n) => n.name === node)?.state === 'online' ? true : undefined));
        assert.ok(online.value, `not online after trusting: ${JSON.stringify(t.nodeServices.snapshot().nodes.find((n) => n.name === node))}`);
        assert.equal(asked.length, 2);
        assert.ok(fs.readFileSync(kh, 'utf8').includes(labNode.host), `${kh} does not hold the accepted key`);
      } finally {
        window.showWarningMessage = original;
        await t.nodeServices.disconnect(node).catch(() => undefined);
        await config.update('dockerNetLab.nodes', before, vscode.ConfigurationTarget.Global);
      }
    });

    test('a key passphrase is asked with a password box once, then comes from SecretStorage; the node redefined to another host is asked again', async function () {
      this.timeout(60_000);
      const labNode = lab?.nodes[1];
      assert.ok(labNode?.keyFile !== undefined);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-nodes-test-'));
      const keyFile = path.join(dir, 'id_ed25519');
      const passphrase = `pp-${process.pid}-${Date.now()}`;
      fs.copyFileSync(labNode.keyFile, keyFile);
      fs.chmodSync(keyFile, 0o600);
      const kg = spawnSync('ssh-keygen', ['-q', '-p', '-f', keyFile, '-P', '', '-N', passphrase], { encoding: 'utf8' });
      if (kg.status !== 0) {
        fs.rmSync(dir, { recursive: true, force: true });
        console.log(`    skipped: ssh-keygen could not add a passphrase (${kg.error?.message ?? kg.stderr})`);
        this.skip();
      }
      const window = vscode.window as { showInputBox: (o?: vscode.InputBoxOptions) => Thenable<string | undefined> };
      const original = window.showInputBox;
      const asked: vscode.InputBoxOptions[] = [];
      window.showInputBox = (o?: vscode.InputBoxOptions) => { asked.push(o ?? {}); return Promise.resolve(passphrase); };
      const config = vscode.workspace.getConfiguration();
      const before = config.inspect('dockerNetLab.nodes')?.globalValue;
      const node = 'passphrase-node2';
      const online = (): true | undefined => (t.nodeServices.snapshot().nodes.find((n) => n.name === node)?.state === 'online' ? true : undefined);
      try {
        await config.update('dockerNetLab.nodes', [{
          name: node, host: labNode.host, port: labNode.port, user: labNode.user, auth: 'key', keyFile,
          hostKeyFingerprints: labNode.hostKeyFingerprints,
        }], vscode.ConfigurationTarget.Global);
        await poll(3000, () => (labels(t).some((x) => x.label === node) ? true : undefined));
        await t.nodeServices.connect(node);
        assert.ok((await poll(10_000, online)).value, `not online: ${JSON.stringify(t.nodeServices.snapshot().nodes.find((n) => n.name === node))}`);
        assert.equal(asked.length, 1, 'the passphrase was not asked exactly once');
        assert.equal(asked[0]?.password, true, 'the input box does not hide the passphrase');
        assert.ok(!JSON.stringify(config.inspect('dockerNetLab.nodes')).includes(passphrase), 'the passphrase leaked into settings');

        await t.nodeServices.disconnect(node);
        await t.nodeServices.connect(node);
        assert.ok((await poll(10_000, online)).value, 'not online on the second connect');
        assert.equal(asked.length, 1, 'the stored passphrase was not reused');

        // the same name redefined to another machine (node1, its own host key): the saved secret is
        // bound to user@host:port + host key, so it is asked again and the prompt names the new target
        const other = lab?.nodes[0];
        assert.ok(other !== undefined && other.host !== labNode.host);
        await t.nodeServices.disconnect(node);
        await config.update('dockerNetLab.nodes', [{
          name: node, host: other.host, port: other.port, user: other.user, auth: 'key', keyFile, hostKeyFingerprints: other.hostKeyFingerprints,
        }], vscode.ConfigurationTarget.Global);
        await poll(3000, () => (t.nodeServices.configuration().nodes.find((n) => n.config.name === node)?.config.host === other.host ? true : undefined));
        await t.nodeServices.connect(node);
        assert.ok((await poll(10_000, online)).value, 'not online after the redefinition');
        assert.equal(asked.length, 2, 'the passphrase saved for another host was handed to the redefined node');
        assert.ok(asked[1]?.prompt?.includes(`${other.user}@${other.host}:${other.port}`) === true, `the prompt does not name the new target: ${asked[1]?.prompt ?? ''}`);
      } finally {
        window.showInputBox = original;
        await t.nodeServices.disconnect(node).catch(() => undefined);
        for (const n of lab?.nodes ?? []) { await t.nodeServices.secrets.forget({ ...n, name: node }); }
        await config.update('dockerNetLab.nodes', before, vscode.ConfigurationTarget.Global);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a container started on node2 appears within 1 s and disappears when removed', async function () {
      this.timeout(60_000);
      const node = child(t, undefined, node2);
      assert.ok(node, `${node2} missing`);
      const containers = (): string[] => {
        const group = child(t, node, 'Containers');
        return group === undefined ? [] : labels(t, group).map((x) => x.label);
      };
      assert.ok(!containers().includes(name));
      const sh = await (await t.nodeServices.shells()).shell(node2);
      const run = await sh.exec(`docker run -d --name ${name} busybox sleep 600`, { timeoutMs: 30_000 });
      assert.equal(run.code, 0, `docker run failed: ${run.stderr}`);
      const appeared = await poll(1000, () => (containers().includes(name) ? true : undefined));
      console.log(`    container shown ${appeared.ms} ms after docker run returned`);
      assert.ok(appeared.value, `${name} not in the tree within 1 s (containers: ${containers().join(', ')})`);

      // the create event may show it before start gave it an address: the IPv4 must follow within 1 s too
      const withIp = await poll(1000, () => {
        const group = child(t, node, 'Containers');
        const item = group === undefined ? undefined : labels(t, group).find((x) => x.label === name);
        return item !== undefined && /\d+\.\d+\.\d+\.\d+/.test(item.description) ? item.description : undefined;
      });
      console.log(`    container shown with its IPv4 (${withIp.value ?? 'none'}) ${appeared.ms + withIp.ms} ms after docker run returned`);
      assert.ok(withIp.value, 'container description has no IPv4 1 s after docker run returned');

      const rm = await sh.exec(`docker rm -f ${name}`, { timeoutMs: 30_000 });
      assert.equal(rm.code, 0, `docker rm failed: ${rm.stderr}`);
      const gone = await poll(1000, () => (containers().includes(name) ? undefined : true));
      console.log(`    container gone ${gone.ms} ms after docker rm returned`);
      assert.ok(gone.value, `${name} still in the tree 1 s after removal`);
    });
  });
});
