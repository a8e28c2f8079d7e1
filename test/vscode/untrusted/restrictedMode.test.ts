// The extension in a workspace that is NOT trusted (restricted mode), inside a real VS Code:
// the harness turns workspace trust on and opens a fresh folder nobody trusted
// (scripts/runExtensionTests.mjs --trust=untrusted). With the local lab's nodes configured, nothing
// may reach a node: checked from the extension (its state), from this extension host's own sockets,
// and on the nodes themselves (their sshd logs, canary containers that a command would have changed).
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labKeyFile, labNodesFile } from '../../../src/core/nodes/localLabPaths';
import type { ExtensionApi } from '../../../src/vscode/extension';
import { secretKey } from '../../../src/vscode/nodes/hostBoundSecrets';
import type { LabHost } from './labProbe';
import { sleep, until } from '../polling';
import { SocketWatch, fileSize, linesSince, readLabNodes, sshLoginAttempt, sshNode, sshdLogFile, stubCommands, stubWindow } from './labProbe';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';
const NOT_TRUSTED = /not trusted/i;
const MANAGE_TRUST = 'Manage Workspace Trust';
const TRUST_DIALOG = 'workbench.trust.manage';

async function api(): Promise<ExtensionApi> {
  const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = await ext.activate();
  assert.ok(exports?.nodesTree !== undefined && exports.stepsController !== undefined, 'activate() returned no test API');
  return exports;
}

function rootLabels(t: ExtensionApi): string[] {
  return t.nodesTree.getChildren().map((e) => {
    const item = t.nodesTree.getTreeItem(e);
    return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  });
}

suite('untrusted workspace', () => {
  test('the folder is not trusted: the extension host runs in restricted mode', () => {
    assert.equal(process.env['DOCKER_NET_LAB_TEST_TRUST'], 'untrusted', 'not started by the untrusted harness mode');
    assert.equal(vscode.workspace.workspaceFolders?.length, 1, 'the harness opens one folder');
    assert.equal(vscode.workspace.isTrusted, false, 'vscode.workspace.isTrusted is true: the rest of this suite would prove nothing');
  });

  test('the extension activates with limited support and registers its commands', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const caps = (ext.packageJSON as { capabilities?: { untrustedWorkspaces?: { supported?: unknown; restrictedConfigurations?: unknown } } }).capabilities;
    assert.equal(caps?.untrustedWorkspaces?.supported, 'limited');
    assert.deepEqual(caps?.untrustedWorkspaces?.restrictedConfigurations, ['dockerNetLab.nodes']);
    await api();
    assert.ok(ext.isActive, 'not active');
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['dockerNetLab.step.run', 'dockerNetLab.lab.reset', 'dockerNetLab.node.connect', 'dockerNetLab.diagnostics.applyFix']) {
      assert.ok(commands.includes(id), `${id} is not registered`);
    }
  });

  test('both views show no rows but a one-line welcome (when !isWorkspaceTrusted) whose button opens the trust dialog', async () => {
    const t = await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    const welcome = ((ext?.packageJSON as { contributes?: { viewsWelcome?: { view: string; contents: string; when?: string }[] } }).contributes?.viewsWelcome ?? []);
    for (const view of ['dockerNetLab.nodes', 'dockerNetLab.steps']) {
      const untrusted = welcome.filter((w) => w.view === view && w.when === '!isWorkspaceTrusted');
      assert.equal(untrusted.length, 1, `${view}: ${untrusted.length} welcome entries for an untrusted folder`);
      const [text, ...links] = (untrusted[0]?.contents ?? '').split('\n');
      assert.match(text ?? '', NOT_TRUSTED, `${view}: the welcome line does not say the folder is not trusted`);
      assert.deepEqual(links, [`[${MANAGE_TRUST}](command:${TRUST_DIALOG})`], `${view}: the welcome has no button that opens the trust dialog`);
      // any other welcome of the view is for a trusted folder only (else both would show)
      assert.ok(welcome.filter((w) => w.view === view && w !== untrusted[0]).every((w) => w.when === 'isWorkspaceTrusted'), `${view}: another welcome shows while untrusted`);
    }
    // VS Code shows a view's welcome only while its tree has no rows
    assert.deepEqual(t.stepsTree.getChildren(), [], 'the Lab Steps tree has rows: its welcome content is hidden');
    assert.deepEqual(rootLabels(t), [], 'the Lab Nodes tree has rows: its welcome content is hidden');
  });

  test('"Run this step" and "Verify only" (as the walkthrough runs them) say why nothing ran, with a button that opens the trust dialog', async () => {
    await api();
    for (const id of ['dockerNetLab.step.run', 'dockerNetLab.step.verify']) {
      const ui = stubWindow(undefined, MANAGE_TRUST);
      const cmds = stubCommands([TRUST_DIALOG]);
      try {
        // the walkthrough's link: command:<id>?["ch1-run-web"]
        await vscode.commands.executeCommand(id, 'ch1-run-web');
        const said = ui.shown.filter((m) => m.kind === 'warning' || m.kind === 'error');
        assert.equal(said.length, 1, `${id}: ${said.length} messages: ${JSON.stringify(ui.shown)}`);
        assert.match(said[0]?.text ?? '', /nothing ran/i, `${id}: the message does not say that nothing ran`);
        assert.match(said[0]?.text ?? '', NOT_TRUSTED, `${id}: the message does not say why`);
        assert.ok(said[0]?.actions.includes(MANAGE_TRUST), `${id}: no "${MANAGE_TRUST}" button: ${JSON.stringify(said[0]?.actions)}`);
        assert.deepEqual(cmds.ran, [TRUST_DIALOG], `${id}: the button did not open the trust dialog`);
      } finally {
        cmds.restore();
        ui.restore();
      }
    }
  });

  test('dockerNetLab.nodes from the workspace settings is ignored (restricted setting)', async function () {
    this.timeout(40_000);
    const t = await api();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder !== undefined);
    const dir = path.join(folder, '.vscode');
    const file = path.join(dir, 'settings.json');
    const name = `ws-node-${process.pid}`;
    // a node of the lab LAN under another name; editor.tabSize is not restricted: it shows VS Code read the file
    const settings = {
      'editor.tabSize': 7,
      'dockerNetLab.nodes': [{ name, host: '10.99.0.11', port: 22, user: 'root', auth: 'key', keyFile: labKeyFile() }],
    };
    const tabSize = (): unknown => vscode.workspace.getConfiguration('editor').inspect('tabSize')?.workspaceValue;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
    try {
      const read = await until(20_000, () => (tabSize() === 7 ? true : undefined), 50);
      assert.ok(read, `VS Code did not read ${file} within 20 s (editor.tabSize workspace value ${String(tabSize())})`);
      const value = vscode.workspace.getConfiguration().get<{ name?: string }[]>('dockerNetLab.nodes') ?? [];
      assert.ok(!value.some((n) => n.name === name), `the workspace value is used: ${JSON.stringify(value)}`);
      await vscode.commands.executeCommand('dockerNetLab.nodes.refresh'); // re-reads the configuration
      await sleep(1000);
      const configured = t.nodeServices.configuration().nodes.map((n) => n.config.name);
      assert.ok(!configured.includes(name), `the extension configured the workspace's node: ${configured.join(', ')}`);
      assert.ok(!rootLabels(t).includes(name), `the Lab Nodes tree shows the workspace's node: ${rootLabels(t).join(', ')}`);
      assert.equal(t.nodeServices.started, false, 'the node services started (ssh2 loaded)');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await until(20_000, () => (tabSize() === undefined ? true : undefined), 50);
    }
  });

  test('no secret is read from SecretStorage: a stored password is not handed out and nothing is asked', async () => {
    const t = await api();
    const store = (t.nodeServices.secrets as unknown as { secrets?: vscode.SecretStorage }).secrets;
    assert.ok(store !== undefined && typeof store.get === 'function', 'SecretStore has no SecretStorage field named "secrets"');
    const node = `secret-node-${process.pid}`;
    const request = { kind: 'password', node, user: 'root', host: '10.99.0.11', port: 22, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` } as const;
    const key = secretKey(request, 'password');
    const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
    await store.store(key, password);
    const calls: string[] = [];
    const s = store as unknown as Record<string, unknown>;
    const original = { get: s['get'], store: s['store'], delete: s['delete'] };
    const ui = stubWindow();
    let still: string | undefined;
    try {
      for (const m of ['get', 'store', 'delete'] as const) {
        const f = original[m] as (...a: unknown[]) => unknown;
        s[m] = (...a: unknown[]): unknown => { calls.push(`${m}(${String(a[0])})`); return f.apply(store, a); };
      }
      const got = await t.nodeServices.secrets.getSecret(request);
      const retry = await t.nodeServices.secrets.getSecret({ ...request, retry: true });
      assert.equal(got, undefined, 'the stored password was handed out');
      assert.equal(retry, undefined);
      assert.deepEqual(calls, [], 'SecretStorage was used');
      assert.deepEqual(ui.shown, [], 'something was asked');
    } finally {
      ui.restore();
      Object.assign(s, original);
      still = await store.get(key);
      await store.delete(key);
    }
    // the password was there all along: the trust guard, not an empty store, kept it back
    assert.equal(still, password, 'the test secret was not in SecretStorage');
  });

  suite('with the local lab configured', function () {
    const lab = readLabNodes();
    const hosts: LabHost[] = (lab?.nodes ?? []).map((n) => ({ name: n.name, host: n.host, port: n.port, user: n.user }));
    const node1 = hosts[0];
    // Probe nodes in the USER settings (honoured in an untrusted workspace): the lab's hosts and key, but a
    // user that exists on no node. Any login attempt of the extension to them leaves
    // "Invalid user <probeUser>" in that node's sshd log; nobody else uses that name.
    const probeUser = `dnlprobe${process.pid}`;
    const probes = (lab?.nodes ?? []).map((n, i) => ({
      name: `dnl-probe${i + 1}`, host: n.host, port: n.port, user: probeUser, auth: 'key', keyFile: labKeyFile(),
      ...(n.hostKeyFingerprints === undefined ? {} : { hostKeyFingerprints: n.hostKeyFingerprints }),
    }));
    const canary = `dnl-untrusted-canary-${process.pid}`;
    const logOffsets = new Map<string, number>();
    const config = vscode.workspace.getConfiguration();
    let nodesBefore: unknown;
    let useLocalLabBefore: unknown;
    let watch: SocketWatch | undefined;
    let t: ExtensionApi;
    let canaryId = '';

    const canaryIdNow = async (): Promise<string> => node1 === undefined ? '' : (await sshNode(node1, `docker container inspect -f '{{.Id}}' ${canary} 2>/dev/null || true`)).trim();

    suiteSetup(async function () {
      if (lab === undefined || node1 === undefined || hosts.length < 2) {
        console.log(`    skipped: no local lab nodes file at ${labNodesFile()} (run "docker-net-lab lab up" as root)`);
        this.skip();
      }
      this.timeout(90_000);
      for (const h of hosts) { logOffsets.set(h.name, fileSize(sshdLogFile(h.name))); }
      // the sshd log does record a login as an unknown user (else the final check would prove nothing)
      const check = `dnlcheck${process.pid}`;
      await sshLoginAttempt(node1, check);
      const seen = await until(5000, () => (linesSince(sshdLogFile(node1.name), logOffsets.get(node1.name) ?? 0).some((l) => l.includes(`Invalid user ${check} `)) ? true : undefined), 50);
      assert.ok(seen, `${sshdLogFile(node1.name)} did not record a login attempt as ${check}`);
      watch = new SocketWatch('10.99.0.');
      t = await api();
      nodesBefore = config.inspect('dockerNetLab.nodes')?.globalValue;
      useLocalLabBefore = config.inspect('dockerNetLab.useLocalLab')?.globalValue;
      await config.update('dockerNetLab.nodes', probes, vscode.ConfigurationTarget.Global);
      // the canary: a container only this test knows, which the Apply fix below would remove
      await sshNode(node1, `img=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -n 1); [ -n "$img" ] && docker create --name ${canary} "$img" true >/dev/null`);
      canaryId = await canaryIdNow();
      assert.match(canaryId, /^[0-9a-f]{64}$/, 'the canary container was not created');
    });

    suiteTeardown(async function () {
      this.timeout(60_000);
      watch?.stop();
      if (node1 === undefined || lab === undefined) { return; }
      await config.update('dockerNetLab.nodes', nodesBefore, vscode.ConfigurationTarget.Global);
      await config.update('dockerNetLab.useLocalLab', useLocalLabBefore, vscode.ConfigurationTarget.Global);
      try {
        await sshNode(node1, `docker rm -f ${canary} >/dev/null 2>&1; true`);
      } catch (e) {
        console.log(`    cleanup of ${canary} on ${node1.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });

    test('with nodes configured the Lab Nodes tree still has no rows (its welcome says what to do) and connects to none', async function () {
      this.timeout(30_000);
      const names = [...hosts.map((h) => h.name), ...probes.map((p) => p.name)];
      const configured = await until(5000, () => {
        const n = t.nodeServices.configuration().nodes.map((x) => x.config.name);
        return names.every((x) => n.includes(x)) ? n : undefined;
      }, 50);
      assert.ok(configured, `nodes not configured: ${t.nodeServices.configuration().nodes.map((x) => x.config.name).join(', ')}`);
      assert.deepEqual(rootLabels(t), [], 'the Lab Nodes tree has rows while untrusted');
      // a trusted window connects as soon as the tree is shown; give it the time it would need
      await sleep(4000);
      assert.equal(t.nodeServices.started, false, 'the node services started (ssh2 loaded, sessions possible)');
      assert.ok(t.nodeServices.snapshot().nodes.every((n) => n.state === 'disconnected'), JSON.stringify(t.nodeServices.snapshot().nodes.map((n) => [n.name, n.state])));
      watch?.sample();
      assert.deepEqual([...(watch?.seen ?? [])], [], 'this extension host opened TCP connections into the lab LAN');
    });

    test('Run Step, Verify Step, Run All and Reset Lab are refused with a message, without asking to confirm', async function () {
      this.timeout(60_000);
      const ui = stubWindow(probes[0]?.name);
      try {
        // only the probe nodes: the steps would run on them (first two configured nodes)
        await config.update('dockerNetLab.useLocalLab', false, vscode.ConfigurationTarget.Global);
        const only = await until(10_000, () => {
          const n = t.nodeServices.configuration().nodes.map((x) => x.config.name);
          return n.join() === probes.map((p) => p.name).join() ? n : undefined;
        }, 50);
        assert.ok(only, `the probe nodes are not the only nodes: ${t.nodeServices.configuration().nodes.map((x) => x.config.name).join(', ')}`);
        const calls: [string, ...unknown[]][] = [
          ['dockerNetLab.step.run', 'ch1-run-web'],
          ['dockerNetLab.step.verify', 'ch1-run-web'],
          ['dockerNetLab.step.runAll'],
          ['dockerNetLab.lab.reset'],
        ];
        for (const [id, ...args] of calls) {
          const n = ui.shown.length;
          const result = await vscode.commands.executeCommand(id, ...args);
          assert.equal(result, undefined, `${id} returned ${JSON.stringify(result)}`);
          const said = ui.shown.slice(n);
          assert.ok(said.some((m) => (m.kind === 'warning' || m.kind === 'error') && NOT_TRUSTED.test(m.text)), `${id}: no "not trusted" message; shown ${JSON.stringify(said)}`);
          assert.ok(!said.some((m) => m.modal), `${id} asked to confirm although nothing may run: ${JSON.stringify(said)}`);
        }
        assert.notEqual(t.getStepState('ch1-run-web'), 'running');
        assert.equal(t.getStepOutput('ch1-run-web'), undefined, 'the step has a transcript: it started');
        assert.equal(t.getStepOutput('reset'), undefined, 'the reset has a transcript: it started');
      } finally {
        ui.restore();
        await config.update('dockerNetLab.useLocalLab', useLocalLabBefore, vscode.ConfigurationTarget.Global);
      }
    });

    test('node commands (connect, connect all, refresh, terminal) are refused and the API refuses to connect', async function () {
      this.timeout(30_000);
      assert.ok(node1 !== undefined);
      const ui = stubWindow(node1.name);
      const terminals = vscode.window.terminals.length;
      try {
        for (const [id, arg] of [['dockerNetLab.node.connect', node1.name], ['dockerNetLab.node.connect', probes[0]?.name], ['dockerNetLab.nodes.connectAll', undefined],
          ['dockerNetLab.node.refresh', node1.name], ['dockerNetLab.node.openTerminal', node1.name], ['dockerNetLab.node.openTerminal', probes[0]?.name]] as const) {
          const n = ui.shown.length;
          await vscode.commands.executeCommand(id, arg);
          const said = ui.shown.slice(n);
          assert.ok(said.some((m) => m.kind === 'error' && NOT_TRUSTED.test(m.text)), `${id} ${String(arg)}: no "not trusted" error; shown ${JSON.stringify(said)}`);
        }
        await assert.rejects(t.nodeServices.connect(), (e: unknown) => (e as { code?: unknown }).code === 'NotSupported');
        await assert.rejects(t.nodeServices.shells(), (e: unknown) => (e as { code?: unknown }).code === 'NotSupported');
        assert.equal(vscode.window.terminals.length, terminals, 'a terminal was opened');
        assert.equal(t.nodeServices.started, false);
      } finally {
        ui.restore();
      }
    });

    test('Apply fix of a runtime finding is refused before it asks to confirm; its command does not run', async function () {
      this.timeout(30_000);
      const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: `docker: Error response from daemon: endpoint with name ${canary} already exists in network my-overlay.\n` });
      await vscode.window.showTextDocument(doc);
      const findings = await vscode.commands.executeCommand<{ ruleId: string; fixCommands?: string[] }[]>('dockerNetLab.diagnostics.diagnoseText');
      const finding = findings.find((f) => f.ruleId === 'endpoint-already-exists-in-network');
      assert.ok(finding, `no endpoint-already-exists finding: ${JSON.stringify(findings.map((f) => f.ruleId))}`);
      assert.deepEqual(finding.fixCommands, [`docker rm -f ${canary}`], 'the fix would not remove the canary: this test would prove nothing');
      const diag = await until(10_000, () => vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === finding.ruleId), 50);
      assert.ok(diag);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diag.range);
      const apply = actions.find((a) => a.command?.command === 'dockerNetLab.diagnostics.applyFix')?.command;
      assert.ok(apply, 'no Apply fix action');
      // asked for a node, the stub picks docker-node1 (where the canary is); a modal is answered "Apply"
      const ui = stubWindow(node1?.name);
      try {
        const result = await vscode.commands.executeCommand<{ outcome?: string } | undefined>(apply.command, ...((apply.arguments ?? []) as unknown[]));
        assert.notEqual(result?.outcome, 'ran', `the fix ran: ${JSON.stringify(result)}`);
        assert.ok(ui.shown.some((m) => (m.kind === 'error' || m.kind === 'warning') && !m.modal && NOT_TRUSTED.test(m.text)), `no "not trusted" message: ${JSON.stringify(ui.shown)}`);
        assert.ok(!ui.shown.some((m) => m.modal), `asked to confirm a fix that may not run: ${JSON.stringify(ui.shown)}`);
      } finally {
        ui.restore();
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      }
    });

    test('on the nodes: no login attempt as the probe user, the canary container unchanged; no socket into the lab LAN', async function () {
      this.timeout(30_000);
      assert.equal(await canaryIdNow(), canaryId, `the canary container ${canary} on ${node1?.name ?? ''} was removed or replaced`);
      for (const h of hosts) {
        const attempts = linesSince(sshdLogFile(h.name), logOffsets.get(h.name) ?? 0).filter((l) => l.includes(probeUser));
        assert.deepEqual(attempts, [], `${h.name}'s sshd saw the extension try to log in`);
      }
      watch?.sample();
      assert.deepEqual([...(watch?.seen ?? [])], [], 'this extension host opened TCP connections into the lab LAN');
      assert.equal(t.nodeServices.started, false);
    });
  });
});
