// The kernel step for real, in VS Code: the learner's two machines are the vm-legacy VMs (Debian bookworm,
// kernel 6.1), added as their own nodes (user learner, the lab's key, sudo: true). The extension host gets
// DOCKER_NET_LAB_MIN_KERNEL=6.2, so the upgrade is needed; "Run this step" of ch4-kernel-upgrade shows the
// plan in the modal confirmation ("Upgrade and Reboot"), installs the newer kernel the lab's apt repository
// offers through sudo (the password typed once per host into the password box), reboots both VMs, waits for
// the new boot, reconnects and verifies; the Lab Nodes tree shows both machines online again with their
// engines. The install and the reboot are real (QEMU exits on the guest's reboot and the lab's supervisor
// starts it again with the kernel the guest's /vmlinuz names). On the vm profile (forky, kernel 7.2: nothing
// to upgrade to) the suite skips, saying so. What the step changed lives on the VMs' session disks, which the
// next `lab up` replaces.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labHome, labNodesFile } from '../../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import type { NodesFile } from '../../src/core/nodes/nodesFile';
import type { NodesTestApi } from '../../src/vscode/nodes/registerNodes';
import type { NodesElement } from '../../src/vscode/nodes/nodesViewModel';
import type { StepsTestApi } from '../../src/vscode/steps/registerSteps';
import { poll } from '../vscode/polling';
import { globalSettings, onMachine, stubbableWindow } from './machineSupport';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';
const vmProfile = process.env['DOCKER_NET_LAB_OWN_MACHINES'] ?? '';
const MIN_KERNEL = '6.2';

type Api = NodesTestApi & StepsTestApi;

function kernelParts(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

suite('kernel upgrade with a real reboot, in VS Code (vm-legacy lab)', function () {
  this.timeout(1_800_000);
  const { w, restore: restoreWindow } = stubbableWindow();
  const config = vscode.workspace.getConfiguration();
  const settingsBefore = globalSettings(['dockerNetLab.nodes', 'dockerNetLab.useLocalLab']);
  const envBefore = { xdg: process.env['XDG_CONFIG_HOME'], minKernel: process.env['DOCKER_NET_LAB_MIN_KERNEL'] };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-vscode-kernel-'));
  let t: Api | undefined;
  let nodes: NodeConfig[] = [];
  let sudoPassword = '';
  const confirmations: { title: string; detail: string; items: string[] }[] = [];
  const sudoPrompts: string[] = [];
  const errors: string[] = [];

  /** Runs a command as the learner on a node: ssh with the lab key and the lab's known_hosts; `root` goes through sudo -S. */
  const onNode = (n: NodeConfig, command: string, root = false): { code: number; out: string } =>
    onMachine({ user: n.user, host: n.host, port: n.port, keyFile: n.keyFile ?? '' }, command, root ? { sudoPassword } : {});
  const bootFacts = (n: NodeConfig): { kernel: string; bootId: string } => {
    const r = onNode(n, 'uname -r; cat /proc/sys/kernel/random/boot_id');
    assert.equal(r.code, 0, `${n.name}: ${r.out}`);
    const [kernel, bootId] = r.out.split('\n').map((s) => s.trim());
    return { kernel: kernel ?? '', bootId: bootId ?? '' };
  };
  const online = (name: string): true | undefined => (t?.nodeServices.snapshot().nodes.find((n) => n.name === name)?.state === 'online' ? true : undefined);
  const row = (name: string): string | undefined => {
    if (t === undefined) { return undefined; }
    const api = t;
    const item = api.nodesTree.getChildren(undefined).map((e: NodesElement) => api.nodesTree.getTreeItem(e))
      .find((i) => (typeof i.label === 'string' ? i.label : (i.label?.label ?? '')) === name);
    return typeof item?.description === 'string' ? item.description : undefined;
  };

  suiteSetup(async function () {
    if (vmProfile !== 'vm-legacy') {
      console.log(`    skipped: the kernel upgrade needs the vm-legacy VMs (bookworm, kernel 6.1); the lab up is ${vmProfile === '' ? 'not a VM lab' : vmProfile} (forky's kernel 7.2 has nothing newer to upgrade to)`);
      this.skip();
    }
    this.timeout(180_000);
    const lab = JSON.parse(fs.readFileSync(labNodesFile(), 'utf8')) as NodesFile;
    nodes = lab.nodes.slice(0, 2);
    assert.equal(nodes.length, 2, `the lab's nodes file names ${nodes.length} node(s)`);
    for (const n of nodes) { assert.notEqual(n.user, 'root', `${n.name}: the VM lab logs in as root: not a learner's machine`); }
    sudoPassword = fs.readFileSync(path.join(labHome(), 'vm', 'sudo-password'), 'utf8').trim();
    // speed only: the new kernel's initramfs with this VM's own drivers (MODULES=dep): with Debian's default
    // MODULES=most, mkinitramfs took over 7 minutes per node under TCG; the install and the reboot stay the same
    for (const n of nodes) {
      const r = onNode(n, "sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf && grep -c '^MODULES=dep$' /etc/initramfs-tools/initramfs.conf", true);
      assert.equal(r.code, 0, `${n.name}: MODULES=dep: ${r.out}`);
    }
    process.env['XDG_CONFIG_HOME'] = path.join(work, 'xdg'); // the progress of user nodes: a fresh file for this run
    process.env['DOCKER_NET_LAB_MIN_KERNEL'] = MIN_KERNEL;

    w['showWarningMessage'] = (message: string, options: vscode.MessageOptions | undefined, ...items: string[]) => {
      confirmations.push({ title: message, detail: options?.detail ?? '', items });
      return Promise.resolve(items.find((i) => i === 'Trust and connect' || i === 'Run Step' || i === 'Upgrade and Reboot'));
    };
    w['showInformationMessage'] = () => Promise.resolve(undefined);
    w['showErrorMessage'] = (m: string) => { errors.push(m); return Promise.resolve(undefined); };
    w['showInputBox'] = (o?: vscode.InputBoxOptions) => {
      const prompt = o?.prompt ?? '';
      if (prompt.includes('sudo password')) { sudoPrompts.push(o?.title ?? ''); return Promise.resolve(sudoPassword); }
      return Promise.resolve(undefined);
    };
    const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    t = await ext.activate();
    // the learner's own two machines, as Add Node writes them (their host keys are trusted by the prompt above)
    await config.update('dockerNetLab.useLocalLab', false, vscode.ConfigurationTarget.Global);
    await config.update('dockerNetLab.nodes', nodes.map((n) => ({ name: n.name, host: n.host, port: n.port, user: n.user, auth: 'key', keyFile: n.keyFile, sudo: true })), vscode.ConfigurationTarget.Global);
    await poll(10_000, () => (t?.nodeServices.configuration().nodes.length === 2 ? true : undefined));
    await t.nodeServices.connect();
    for (const n of nodes) {
      assert.ok((await poll(60_000, () => online(n.name))).value, `${n.name} is not online: ${JSON.stringify(t.nodeServices.snapshot().nodes.find((x) => x.name === n.name))}`);
    }
  });

  suiteTeardown(async function () {
    this.timeout(120_000);
    restoreWindow();
    try {
      if (t !== undefined) {
        for (const n of nodes) {
          await t.nodeServices.disconnect(n.name).catch(() => undefined);
          await t.nodeServices.secrets.forget({ name: n.name, user: n.user, host: n.host, port: n.port });
        }
      }
    } finally {
      for (const [k, v] of [['XDG_CONFIG_HOME', envBefore.xdg], ['DOCKER_NET_LAB_MIN_KERNEL', envBefore.minKernel]] as const) {
        if (v === undefined) { delete process.env[k]; } else { process.env[k] = v; }
      }
      await settingsBefore.restore();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test('Run this step of ch4-kernel-upgrade: the plan is confirmed, the newer kernel installed through sudo, both VMs reboot, reconnect and are verified on it', async () => {
    assert.ok(t !== undefined);
    const api = t;
    const before = nodes.map((n) => bootFacts(n));
    for (const [i, b] of before.entries()) {
      const [maj, min] = kernelParts(b.kernel);
      assert.ok(maj === 6 && min < 2, `${nodes[i]?.name ?? ''}: bookworm's own kernel is 6.0 or 6.1, not ${b.kernel}`);
    }
    // the learner's order: hostnames first (the VMs are clones with one hostname)
    const hostnames = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.run', 'ch4-hostnames');
    assert.equal(hostnames, 'verified', `ch4-hostnames ended ${String(hostnames)}: ${api.stepsController.states.record('ch4-hostnames')?.message ?? ''}`);

    const t0 = Date.now();
    const state = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.run', 'ch4-kernel-upgrade');
    const kernelMs = Date.now() - t0;
    const output = api.getStepOutput('ch4-kernel-upgrade') ?? '';
    assert.equal(state, 'verified', `ch4-kernel-upgrade ended ${String(state)}: ${api.stepsController.states.record('ch4-kernel-upgrade')?.message ?? ''}\n${output.slice(-4000)}`);
    assert.deepEqual(errors, [], 'an error was shown');

    // the modal confirmation named the plan: why, and the reboot
    const asked = confirmations.find((c) => c.items.includes('Upgrade and Reboot'));
    assert.ok(asked !== undefined, `no "Upgrade and Reboot" confirmation: ${JSON.stringify(confirmations.map((c) => c.items))}`);
    assert.match(`${asked.title}\n${asked.detail}`, new RegExp(`older than ${MIN_KERNEL.replace('.', '\\.')}`), 'the confirmation says why the upgrade is needed');
    assert.match(asked.detail, /reboot/i, 'the confirmation says the nodes reboot');
    assert.deepEqual([...new Set(sudoPrompts)].sort(), nodes.map((n) => `Docker Network Lab: ${n.name}`).sort(), 'the sudo password was not asked once per host');
    assert.ok(!output.includes(sudoPassword), 'the sudo password is in the step output');

    const after = nodes.map((n) => bootFacts(n));
    for (const [i, a] of after.entries()) {
      const n = nodes[i];
      const b = before[i];
      assert.ok(n !== undefined && b !== undefined);
      assert.notEqual(a.bootId, b.bootId, `${n.name} did not reboot (same boot id)`);
      const [maj, min] = kernelParts(a.kernel);
      assert.ok(maj > 6 || (maj === 6 && min >= 2), `${n.name}: kernel ${a.kernel} after the upgrade is older than ${MIN_KERNEL}`);
      const link = onNode(n, 'readlink -f /vmlinuz');
      assert.ok(link.out.trim().endsWith(`vmlinuz-${a.kernel}`), `${n.name}: /vmlinuz names ${link.out.trim()}, the VM booted ${a.kernel}`);
    }
    // the tree came back by itself: both machines online with their engines
    for (const n of nodes) {
      assert.ok((await poll(120_000, () => online(n.name))).value, `${n.name} is not online after its reboot`);
      const d = await poll(60_000, () => (row(n.name)?.includes('Docker 20.10') === true ? row(n.name) : undefined));
      assert.ok(d.value !== undefined, `${n.name}: the tree row has no Docker engine after the reboot: ${row(n.name) ?? '(no row)'}`);
    }
    // on the new kernel the step has nothing more to do
    const verify = await vscode.commands.executeCommand<string | undefined>('dockerNetLab.step.verify', 'ch4-kernel-upgrade');
    assert.equal(verify, 'verified', `verify after the reboot ended ${String(verify)}`);
    console.log(`    kernel step in VS Code: plan+install+reboot+reconnect+verify of both nodes ${(kernelMs / 1000).toFixed(1)} s; kernels ${before.map((b) => b.kernel).join(', ')} -> ${after.map((a) => a.kernel).join(', ')}`);
  });
});
