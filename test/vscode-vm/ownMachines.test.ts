// A learner brings their own two machines, in a real VS Code: "Add Node" offers the hosts of an ssh config
// (Host docker-node1 / HostName / User learner / IdentityFile, the same for docker-node2), the host key is
// trusted after its fingerprint was shown (the test checks it is the node's real key), the sudo password is
// typed into a password box once per host and kept in SecretStorage, chapter 4 steps that need root run from
// the walkthrough's command and are verified, and the Lab Nodes tree shows both machines with their Docker
// engines. Prompts are answered by stubbing vscode.window, as the other VS Code suites here do.
//
// The machines are the VM lab's (`lab up --profile vm`: user learner, sudo password in the lab's state) or,
// with DOCKER_NET_LAB_OWN_MACHINES=netns, the netns lab's nodes reached as a non-root user with a sudo
// password that this suite makes (the legacy nodes share this machine's /etc/passwd, /etc/sudoers.d and
// /usr; their sshd takes the lab key for every user) and removes afterwards. On the netns nodes nothing
// filters incoming traffic, so the suite adds one DROP rule (port 9) to make their firewall "on", as a
// learner's is.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadLab } from '../../src/core/lab/loadLab';
import { labHome, labKnownHostsFile, labNodesFile } from '../../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import type { NodesFile } from '../../src/core/nodes/nodesFile';
import { shellQuote } from '../../src/core/util/shellQuote';
import type { NodesTestApi } from '../../src/vscode/nodes/registerNodes';
import type { NodesElement } from '../../src/vscode/nodes/nodesViewModel';
import type { StepsTestApi } from '../../src/vscode/steps/registerSteps';
import { poll, sleep } from '../vscode/polling';
import { globalSettings, onMachine, stubbableWindow } from './machineSupport';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';
// netns, or the VM profile the runner found up (vm: Debian forky, Docker 28; vm-legacy: bookworm, Docker 20.10)
const target = process.env['DOCKER_NET_LAB_OWN_MACHINES'] === 'netns' ? 'netns' : 'vm';
const vmProfile = process.env['DOCKER_NET_LAB_OWN_MACHINES'] === 'vm-legacy' ? 'vm-legacy' : 'vm';
const netnsUser = 'dnllearner';
const dropComment = 'dnl-own-machines-test';
const dropRule = `INPUT -p tcp --dport 9 -m comment --comment ${dropComment} -j DROP`;

type Api = NodesTestApi & StepsTestApi;

async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = await ext.activate();
  assert.ok(exports?.nodesTree !== undefined && exports.stepsController !== undefined, 'activate() returned no test API');
  return exports;
}

function rows(t: Api, parent?: NodesElement): { element: NodesElement; label: string; description: string }[] {
  return t.nodesTree.getChildren(parent).map((element) => {
    const item = t.nodesTree.getTreeItem(element);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    return { element, label, description: typeof item.description === 'string' ? item.description : '' };
  });
}

/** `SHA256:…` of every host key known_hosts holds for `host` (ssh-keygen's own hashing, no ssh involved). */
function knownHostFingerprints(file: string, host: string): string[] {
  if (!fs.existsSync(file)) { return []; }
  const out: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [hosts, , blob] = line.trim().split(/\s+/);
    if (hosts === undefined || blob === undefined || !hosts.split(',').includes(host)) { continue; }
    out.push(`SHA256:${crypto.createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`);
  }
  return out;
}

interface Machine {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The fingerprints the lab recorded for the node's host key (its nodes file and known_hosts). */
  readonly fingerprints: readonly string[];
}

suite(`own machines in VS Code (${target === 'vm' ? vmProfile : target} lab)`, function () {
  this.timeout(600_000);
  const { w, restore: restoreWindow } = stubbableWindow();
  const config = vscode.workspace.getConfiguration();
  const settingsBefore = globalSettings(['dockerNetLab.nodes', 'dockerNetLab.sshConfigFile', 'dockerNetLab.useLocalLab']);
  const xdgBefore = process.env['XDG_CONFIG_HOME'];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-own-machines-'));
  let t: Api;
  let machines: Machine[] = [];
  let user = '';
  let keyFile = '';
  let sudoPassword = '';
  let createdUser = false;
  let originalHostname2: string | undefined;
  // what the stubbed prompts saw
  const picks: { title: string; labels: string[]; descriptions: string[] }[] = [];
  const warnings: { message: string; detail: string; items: string[] }[] = [];
  const inputs: { title: string; prompt: string; password: boolean }[] = [];
  const errors: string[] = [];
  let inputsOpen = 0;
  let mostInputsOpen = 0;
  let sudoAnswers: string[] = [];

  const knownHosts = labKnownHostsFile();

  /** Runs a command as the learner on a node (ssh with the lab key, the lab's known_hosts). */
  const asLearner = (m: Machine, command: string): { code: number; out: string } => onMachine({ user, host: m.host, port: m.port, keyFile }, command);
  /** Runs a command as root on a node: as the learner, `sudo -S` with the password on stdin. */
  const asRoot = (m: Machine, command: string): { code: number; out: string } => onMachine({ user, host: m.host, port: m.port, keyFile }, command, { sudoPassword });
  const online = (name: string): true | undefined => (t.nodeServices.snapshot().nodes.find((n) => n.name === name)?.state === 'online' ? true : undefined);
  const sudoPrompts = (): typeof inputs => inputs.filter((i) => i.prompt.includes('sudo password'));

  suiteSetup(async function () {
    this.timeout(120_000);
    const lab = JSON.parse(fs.readFileSync(labNodesFile(), 'utf8')) as NodesFile;
    const nodes = lab.nodes.slice(0, 2);
    assert.equal(nodes.length, 2, `the lab's nodes file names ${nodes.length} node(s)`);
    keyFile = nodes[0]?.keyFile ?? '';
    assert.ok(keyFile !== '' && fs.existsSync(keyFile), `the lab's key file ${keyFile} is missing`);
    assert.ok(fs.existsSync(knownHosts), `no lab known_hosts at ${knownHosts}`);
    machines = nodes.map((n: NodeConfig) => ({
      name: n.name, host: n.host, port: n.port,
      fingerprints: [...new Set([...(n.hostKeyFingerprints ?? []), ...knownHostFingerprints(knownHosts, n.port === 22 ? n.host : `[${n.host}]:${n.port}`)])],
    }));
    for (const m of machines) { assert.ok(m.fingerprints.length > 0, `the lab recorded no host key for ${m.name}`); }
    if (target === 'vm') {
      user = nodes[0]?.user ?? '';
      assert.notEqual(user, 'root', 'the VM lab logs in as root: not a learner\'s machine');
      sudoPassword = fs.readFileSync(path.join(labHome(), 'vm', 'sudo-password'), 'utf8').trim();
    } else {
      if (spawnSync('id', [netnsUser]).status === 0) { assert.fail(`a user ${netnsUser} exists already: not touching it`); }
      user = netnsUser;
      sudoPassword = `Own-${crypto.randomBytes(6).toString('hex')}`;
      const add = spawnSync('useradd', ['-M', '-d', '/tmp', '-s', '/bin/sh', '-G', 'docker', user], { encoding: 'utf8' });
      assert.equal(add.status, 0, `useradd: ${add.stderr}`);
      createdUser = true;
      const pw = spawnSync('chpasswd', [], { input: `${user}:${sudoPassword}\n`, encoding: 'utf8' });
      assert.equal(pw.status, 0, `chpasswd: ${pw.stderr}`);
      fs.writeFileSync(`/etc/sudoers.d/${user}`, `${user} ALL=(ALL) ALL\n`, { mode: 0o440 });
      for (const m of machines) {
        const r = asRoot(m, `iptables -C ${dropRule} 2>/dev/null || iptables -A ${dropRule}`);
        assert.equal(r.code, 0, `${m.name}: cannot add the test's firewall rule: ${r.out}`);
      }
    }
    const [m1, m2] = machines;
    assert.ok(m1 !== undefined && m2 !== undefined);
    // the learner's machines have the same hostname (a cloned VM): ch4-hostnames must set it, as root
    if (target === 'vm') {
      originalHostname2 = asRoot(m2, 'hostname').out.trim();
      const h1 = asRoot(m1, 'hostname').out.trim();
      const r = asRoot(m2, `hostname ${shellQuote(h1)}`);
      assert.equal(r.code, 0, `${m2.name}: cannot set the clashing hostname: ${r.out}`);
    }
    const sshConfig = machines.map((m) => `Host ${m.name}\n  HostName ${m.host}\n  Port ${m.port}\n  User ${user}\n  IdentityFile ${keyFile}\n`).join('\n');
    fs.writeFileSync(path.join(work, 'ssh_config'), sshConfig, { mode: 0o600 });
    // progress of "user" nodes goes to $XDG_CONFIG_HOME/docker-net-lab: a fresh one for this run
    process.env['XDG_CONFIG_HOME'] = path.join(work, 'xdg');

    t = await api();
    await config.update('dockerNetLab.useLocalLab', false, vscode.ConfigurationTarget.Global);
    await config.update('dockerNetLab.nodes', [], vscode.ConfigurationTarget.Global);
    await config.update('dockerNetLab.sshConfigFile', path.join(work, 'ssh_config'), vscode.ConfigurationTarget.Global);
    await poll(5000, () => (t.nodeServices.configuration().nodes.length === 0 ? true : undefined));

    w['showQuickPick'] = (items: readonly (vscode.QuickPickItem & { node?: NodeConfig })[], o?: vscode.QuickPickOptions) => {
      picks.push({ title: o?.title ?? '', labels: items.map((i) => i.label), descriptions: items.map((i) => i.description ?? '') });
      const want = picks.length === 1 ? m1.name : m2.name;
      return Promise.resolve(items.find((i) => i.label === `$(server) ${want}`));
    };
    w['showWarningMessage'] = (message: string, options: vscode.MessageOptions | undefined, ...items: string[]) => {
      warnings.push({ message, detail: options?.detail ?? '', items });
      return Promise.resolve(items.find((i) => i === 'Trust and connect' || i === 'Run Step'));
    };
    w['showInformationMessage'] = () => Promise.resolve(undefined);
    w['showErrorMessage'] = (m: string) => { errors.push(m); return Promise.resolve(undefined); };
    w['showInputBox'] = async (o?: vscode.InputBoxOptions) => {
      inputs.push({ title: o?.title ?? '', prompt: o?.prompt ?? '', password: o?.password === true });
      inputsOpen++;
      mostInputsOpen = Math.max(mostInputsOpen, inputsOpen);
      await sleep(50); // a person types: a second box opened meanwhile would close this one
      inputsOpen--;
      return (o?.prompt ?? '').includes('sudo password') ? (sudoAnswers.shift() ?? sudoPassword) : undefined;
    };
  });

  suiteTeardown(async function () {
    this.timeout(120_000);
    restoreWindow();
    try {
      if (t !== undefined) {
        for (const m of machines) {
          await t.nodeServices.disconnect(m.name).catch(() => undefined);
          await t.nodeServices.secrets.forget({ name: m.name, user, host: m.host, port: m.port });
        }
      }
      // undo what the steps changed: ch4-firewall's own cleanup commands, as root on each node
      const lab = loadLab(path.join(vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? '', 'labs', 'docker-networking'));
      const firewall = lab.chapters.flatMap((c) => c.steps).find((s) => s.id === 'ch4-firewall');
      for (const m of machines) {
        for (const a of firewall?.cleanup ?? []) {
          if ('run' in a && typeof a.run === 'string') { asRoot(m, a.run); }
        }
        if (target === 'netns') { asRoot(m, `while iptables -D ${dropRule} 2>/dev/null; do :; done`); }
      }
      const m2 = machines[1];
      if (target === 'vm' && m2 !== undefined && originalHostname2 !== undefined && originalHostname2 !== '') {
        asRoot(m2, `[ "$(hostname)" = ${shellQuote(originalHostname2)} ] || hostnamectl set-hostname ${shellQuote(originalHostname2)}`);
      }
    } finally {
      if (createdUser) {
        fs.rmSync(`/etc/sudoers.d/${user}`, { force: true });
        spawnSync('userdel', [user]);
      }
      if (xdgBefore === undefined) { delete process.env['XDG_CONFIG_HOME']; } else { process.env['XDG_CONFIG_HOME'] = xdgBefore; }
      await settingsBefore.restore();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test('Add Node from the ssh config, twice: the fingerprint shown is the node\'s real host key, trusted; the tree shows both machines with their Docker engines', async () => {
    for (const m of machines) {
      await vscode.commands.executeCommand('dockerNetLab.node.add');
      assert.deepEqual(errors, [], `Add Node of ${m.name} reported an error`);
    }
    assert.equal(picks.length, 2);
    const first = picks[0];
    assert.ok(first !== undefined);
    assert.ok(first.labels.includes(path.join(work, 'ssh_config')), `the quick pick does not name the ssh config: ${first.labels.join(' | ')}`);
    for (const m of machines) {
      const at = first.labels.indexOf(`$(server) ${m.name}`);
      assert.ok(at >= 0, `${m.name} is not offered: ${first.labels.join(' | ')}`);
      assert.equal(first.descriptions[at], `${user}@${m.host}:${m.port} · key · sudo`);
    }
    assert.ok(!(picks[1]?.labels ?? []).includes(`$(server) ${machines[0]?.name ?? ''}`), 'a node already added is offered again');

    const entries = config.inspect<unknown[]>('dockerNetLab.nodes')?.globalValue ?? [];
    assert.deepEqual(entries, machines.map((m) => ({ name: m.name, host: m.host, port: m.port, user, auth: 'key', keyFile, sudo: true })));

    const hostKeyPrompts = warnings.filter((x) => x.items.includes('Trust and connect'));
    assert.equal(hostKeyPrompts.length, 2, `not one host-key prompt per node: ${JSON.stringify(warnings)}`);
    for (const [i, m] of machines.entries()) {
      const p = hostKeyPrompts[i];
      assert.ok(p !== undefined);
      assert.equal(p.message, `The authenticity of ${m.name} (${m.port === 22 ? m.host : `${m.host} port ${m.port}`}) cannot be established.`);
      const shown = /\b(SHA256:[A-Za-z0-9+/]{43})\b/.exec(p.detail)?.[1];
      assert.ok(shown !== undefined, `no SHA256 fingerprint in the prompt: ${p.detail}`);
      assert.ok(m.fingerprints.includes(shown), `${m.name}: the prompt shows ${shown}, the node's host key is ${m.fingerprints.join(' or ')}`);
      // what the prompt tells the learner to run on the machine prints the same fingerprint (the netns
      // nodes keep their host keys outside /etc/ssh: only the VMs are machines of that kind)
      const check = /\("(ssh-keygen -lf [^"]+)" on the node\)/.exec(p.detail)?.[1];
      assert.ok(check !== undefined, `the prompt names no command to check the key on the node: ${p.detail}`);
      if (target === 'vm') {
        const r = asLearner(m, check);
        assert.ok(r.out.includes(shown), `${m.name}: "${check}" prints ${r.out.trim()}, the prompt showed ${shown}`);
      }
    }

    for (const m of machines) {
      const up = await poll(30_000, () => online(m.name));
      assert.ok(up.value, `${m.name} not online: ${JSON.stringify(t.nodeServices.snapshot().nodes.find((n) => n.name === m.name))}`);
    }
    const engine = target === 'netns' ? /^Docker \d+\.\d+/ : vmProfile === 'vm' ? /^Docker 28\.\d+/ : /^Docker 20\.10\./;
    for (const m of machines) {
      const row = await poll(10_000, () => {
        const r = rows(t).find((x) => x.label === m.name);
        return r !== undefined && r.description.includes('Docker ') ? r : undefined;
      });
      assert.ok(row.value, `${m.name} has no row with its Docker version: ${rows(t).map((x) => `${x.label} [${x.description}]`).join(', ')}`);
      assert.equal(row.value.description.split(' · ')[0], m.host);
      assert.match(row.value.description.split(' · ')[1] ?? '', engine);
      const networks = rows(t, row.value.element).find((x) => x.label === 'Networks');
      assert.ok(networks, `${m.name} shows no Networks`);
      assert.ok(rows(t, networks.element).some((x) => x.label === 'bridge'), `${m.name}: no bridge network in the tree`);
    }
  });

  test('chapter 4 steps that need root, from the walkthrough\'s command: the sudo password is asked once per host in a password box, and the steps are verified on the nodes', async () => {
    const [m1, m2] = machines;
    assert.ok(m1 !== undefined && m2 !== undefined);
    for (const id of ['ch4-hostnames', 'ch4-firewall']) {
      const state = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.run', id);
      const out = t.getStepOutput(id) ?? '';
      assert.equal(state, 'verified', `${id} ended ${String(state)}: ${t.stepsController.states.record(id)?.message ?? ''}\n${out.slice(-3000)}`);
    }
    const asked = sudoPrompts();
    assert.deepEqual(asked.map((a) => a.title).sort(), machines.map((m) => `Docker Network Lab: ${m.name}`), `the sudo password was not asked exactly once per host: ${JSON.stringify(asked)}`);
    for (const a of asked) { assert.equal(a.password, true, 'the sudo password box does not hide what is typed'); }
    for (const m of machines) {
      assert.ok(asked.some((a) => a.prompt.includes(`${user}@${m.host}:${m.port}`)), `no prompt names ${user}@${m.host}:${m.port}`);
    }
    assert.equal(mostInputsOpen, 1, 'two password boxes were open at once (VS Code shows one: the first would be closed)');
    assert.ok(!JSON.stringify(config.inspect('dockerNetLab.nodes')).includes(sudoPassword), 'the sudo password leaked into settings');
    assert.ok(!(t.getStepOutput('ch4-firewall') ?? '').includes(sudoPassword), 'the sudo password is in the step output');

    // what root changed is there, seen as root on the nodes
    if (target === 'vm') {
      const h2 = asRoot(m2, 'hostname');
      assert.equal(h2.out.trim(), m2.name, `${m2.name}'s hostname after ch4-hostnames: ${h2.out}`);
    }
    for (const m of machines) {
      const facts = asRoot(m, 'if command -v ufw >/dev/null && ufw status | grep -q "Status: active"; then ufw status; elif command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then firewall-cmd --list-ports; else iptables -S INPUT; fi');
      assert.match(facts.out, /4789/, `${m.name}: the firewall does not let VXLAN (4789/udp) in after ch4-firewall:\n${facts.out}`);
    }
  });

  test('a wrong sudo password is asked again, saying "sudo refused the password for <user>@<host>"', async () => {
    // a fresh connection with nothing saved: sudo's password is checked again, and the first answer is wrong
    for (const m of machines) {
      await t.nodeServices.disconnect(m.name);
      await t.nodeServices.secrets.forget({ name: m.name, user, host: m.host, port: m.port });
    }
    await t.nodeServices.connect();
    for (const m of machines) { assert.ok((await poll(30_000, () => online(m.name))).value, `${m.name} not online again`); }
    const before = inputs.length;
    sudoAnswers = ['not-the-password'];
    const state = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.verify', 'ch4-hostnames');
    const asked = inputs.slice(before).filter((a) => a.prompt.includes('sudo password'));
    const first = asked[0];
    assert.ok(first !== undefined, 'the sudo password was not asked on a fresh connection');
    const m = machines.find((x) => first.title === `Docker Network Lab: ${x.name}`);
    assert.ok(m !== undefined, `the prompt names no node: ${first.title}`);
    const again = asked.slice(1).find((a) => a.title === first.title);
    assert.ok(again !== undefined, `the sudo password of ${m.name} was not asked again after a wrong one: ${JSON.stringify(asked)}`);
    assert.ok(again.prompt.startsWith(`sudo refused the password for ${user}@${m.host}.`), `the second prompt does not say sudo refused it: ${again.prompt}`);
    assert.equal(state, 'verified', `ch4-hostnames verify ended ${String(state)} after the right password: ${t.stepsController.states.record('ch4-hostnames')?.message ?? ''}`);
  });
});
