import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ExecResult } from '../../src/core/remoteShell';
import { factsCommand } from '../../src/core/lab/labFacts';
import { defaultLabDir, loadLab } from '../../src/core/lab/loadLab';
import { ProgressStore } from '../../src/core/lab/progressStore';
import type { ConfirmRequest, RunEvent } from '../../src/core/lab/stepRunner';
import { StepRunner, unmetExpectation, valueAtPath } from '../../src/core/lab/stepRunner';
import { isLabError } from '../../src/core/errors';
import { firstBridgeIp } from './fixtures/bridgeAddresses.fixture';
import { FakeShells, factsText } from './fakeShells';

const schemaFile = path.join(defaultLabDir('docker-networking', __dirname), '..', 'schema', 'lab.schema.json');

function writeLab(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-runner-'));
  const d = path.join(dir, 'demo');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'payload.txt'), 'print("hi")\n');
  fs.writeFileSync(path.join(d, 'lab.json'), JSON.stringify({
    kind: 'lab', schemaVersion: 1, id: 'demo', title: { en: 'Demo', 'zh-cn': '演示' }, images: { busybox: 'busybox' },
    clusterStoreMaxDockerMajor: 22, chapters: ['c1.json'], reset: [{ run: 'reset-all', on: 'both' }],
  }));
  const t = { en: 'T', 'zh-cn': 'T' };
  fs.writeFileSync(path.join(d, 'c1.json'), JSON.stringify({
    kind: 'chapter', id: 'c1', title: t, nodes: 'both', steps: [
      {
        id: 's-run', title: t, nodes: 'node1',
        probe: [{ kind: 'command', run: 'probe-web' }],
        prepare: [{ run: 'rm-web', allowFailure: true }],
        run: [{ run: 'start-web {{images.busybox}}' }, { run: 'get-ip', capture: { name: 'webIp', type: 'ipv4' } }, { run: 'upload', stdinFile: 'payload.txt' }],
        verify: [{ kind: 'command', run: 'check {{cap.webIp}}', expect: { stdout: '^ok$' } }, { kind: 'http', from: 'node2', url: 'http://{{node1.ip}}/', body: 'hello' }],
        cleanup: [{ run: 'cleanup-web' }],
      },
      {
        id: 's-fail', title: t, nodes: 'node1', supersededBy: ['s-later'],
        expectFailure: { run: 'curl-refused', exitCode: 7, output: 'refused', explanation: { en: 'Nothing is published on the node.', 'zh-cn': '没有发布' } },
        verify: [{ kind: 'command', run: 'still-unpublished' }],
        cleanup: [{ run: 'cleanup-fail' }],
      },
      {
        id: 's-destr', title: t, nodes: 'node1', destructive: true, run: [{ run: 'danger {{self.ip}}', sudo: true }, { run: 'docker-only' }],
        verify: [{ kind: 'command', run: 'root-check', sudo: true }, { kind: 'command', run: 'true' }], cleanup: [{ run: 'undo-danger', sudo: true }],
      },
      { id: 's-variant', title: t, nodes: 'both', run: [{ run: 'lab-way', when: { labDockerd: true } }, { run: 'real-way', when: { labDockerd: false } }], verify: [] },
      { id: 's-swarm', title: t, nodes: 'node1', when: { overlayPath: 'swarm' }, run: [{ run: 'swarm-init' }], verify: [] },
      { id: 's-later', title: t, nodes: 'node2', prerequisites: ['s-run', 's-swarm'], run: [{ run: 'later' }], verify: [{ kind: 'command', run: 'true' }] },
    ],
  }));
  return d;
}

interface Harness {
  shells: FakeShells; runner: StepRunner; progress: ProgressStore; events: RunEvent[]; confirms: ConfirmRequest[]; state: { web: boolean; curlCode: number; ip: string };
}

function harness(opts: { docker?: string; confirm?: boolean; handler?: (node: string, cmd: string) => Partial<ExecResult> | undefined } = {}): Harness {
  const lab = loadLab(writeLab(), { schemaFile });
  const state = { web: false, curlCode: 7, ip: firstBridgeIp };
  const shells = new FakeShells((node, cmd) => {
    const custom = opts.handler?.(node, cmd);
    if (custom !== undefined) { return custom; }
    if (cmd === factsCommand) { return { stdout: factsText(node, opts.docker ?? '20.10.24', node === 'docker-node1') }; }
    if (cmd === 'probe-web') { return { code: state.web ? 0 : 1 }; }
    if (cmd === 'rm-web') { state.web = false; return { code: 1, stderr: 'No such container' }; }
    if (cmd === 'start-web busybox') { state.web = true; return { stdout: 'abc123\n' }; }
    if (cmd === 'get-ip') { return { stdout: `${state.ip}\n` }; }
    if (cmd === `check ${firstBridgeIp}`) { return { stdout: 'ok\n' }; }
    if (cmd.startsWith("curl -sS -m 5 -w '\\n%{http_code}' ")) { return { stdout: 'hello world\n200' }; }
    if (cmd === 'curl-refused') { return state.curlCode === 0 ? { stdout: 'page' } : { code: state.curlCode, stderr: 'curl: (7) Failed to connect to 127.0.0.1 port 80: Connection refused' }; }
    return { code: 0 };
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-progress-')), 'progress.json');
  const progress = new ProgressStore(file, 'demo 10.99.0.11,10.99.0.12');
  const events: RunEvent[] = [];
  const confirms: ConfirmRequest[] = [];
  const runner = new StepRunner({
    lab, shells, progress, hosts: { 'docker-node1': '10.99.0.11', 'docker-node2': '10.99.0.12' },
    onEvent: (e) => events.push(e),
    confirm: (r) => { confirms.push(r); return Promise.resolve(opts.confirm ?? true); },
    sleep: () => Promise.resolve(),
  });
  return { shells, runner, progress, events, confirms, state };
}

describe('step runner (scripted fake nodes)', () => {
  it('runs prepare + run on the step\'s node, captures values, verifies (HTTP from node2) and records the pass', async () => {
    const h = harness();
    const r = await h.runner.runStep('s-run');
    assert.equal(r.status, 'passed', r.message);
    assert.deepEqual(h.shells.commands('docker-node1'), ['probe-web', 'rm-web', 'start-web busybox', 'get-ip', 'upload', `check ${firstBridgeIp}`]);
    assert.deepEqual(h.shells.commands('docker-node2'), ["curl -sS -m 5 -w '\\n%{http_code}' http://10.99.0.11/"]);
    assert.equal(h.shells.calls.find((c) => c.command === 'upload')?.stdin, 'print("hi")\n');
    assert.equal(h.progress.step('s-run')?.status, 'passed');
    assert.equal(h.progress.progress.captures['webIp'], firstBridgeIp);
    assert.ok(h.events.some((e) => e.type === 'command' && e.node === 'docker-node1' && e.text === 'start-web busybox'));
    assert.ok(h.events.some((e) => e.type === 'stdout' && e.node === 'docker-node1' && e.text === 'abc123\n'));
    assert.deepEqual(h.events.at(-1), { type: 'result', stepId: 's-run', status: 'passed', text: 'Done and verified.' });
    const saved = JSON.parse(fs.readFileSync(h.progress.file, 'utf8'));
    assert.equal(saved.labs['demo 10.99.0.11,10.99.0.12'].steps['s-run'].status, 'passed');
  });

  it('is idempotent: when the probe finds the state in place it only verifies', async () => {
    const h = harness();
    await h.runner.runStep('s-run');
    h.shells.calls.length = 0;
    const r = await h.runner.runStep('s-run');
    assert.equal(r.status, 'passed');
    assert.equal(r.alreadyInPlace, true);
    assert.ok(!h.shells.commands().includes('start-web busybox'));
    assert.ok(h.shells.commands().includes(`check ${firstBridgeIp}`));
  });

  it('fails a step when a command fails, naming the node and the command', async () => {
    const h = harness({ handler: (_n, c) => (c === 'start-web busybox' ? { code: 125, stderr: 'docker: Error response from daemon: Conflict.' } : undefined) });
    const r = await h.runner.runStep('s-run');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /docker-node1: "start-web busybox" failed: exit code 125, expected 0 \(docker: Error response from daemon: Conflict\.\)/);
    assert.equal(h.progress.step('s-run')?.status, 'failed');
  });

  it('refuses a captured value that is not what it claims to be (it would end up in a command)', async () => {
    const h = harness();
    h.state.ip = '$(reboot)';
    const r = await h.runner.runStep('s-run');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /not a valid ipv4/);
    assert.ok(!h.shells.commands().some((c) => c.includes('reboot')));
  });

  it('passes an expected failure only when it fails the way described', async () => {
    const h = harness();
    const ok = await h.runner.runStep('s-fail');
    assert.equal(ok.status, 'passed', ok.message);
    assert.equal(ok.expectedFailure?.observed, true);
    assert.ok(h.events.some((e) => e.type === 'info' && /Failed as expected: Nothing is published/.test(e.text)));
    h.state.curlCode = 0;
    const bad = await h.runner.runStep('s-fail');
    assert.equal(bad.status, 'failed');
    assert.match(bad.message, /Expected "curl-refused" to fail/);
    h.state.curlCode = 6;
    const other = await h.runner.runStep('s-fail');
    assert.equal(other.status, 'failed');
    assert.match(other.message, /exit code 6, expected 7/);
  });

  it('asks before a destructive step, listing the filled-in commands, and changes nothing when declined', async () => {
    const no = harness({ confirm: false });
    const r = await no.runner.runStep('s-destr');
    assert.equal(r.status, 'cancelled');
    assert.deepEqual(no.confirms[0]?.commands, [{ node: 'docker-node1', command: 'danger 10.99.0.11', sudo: true }, { node: 'docker-node1', command: 'docker-only' }]);
    assert.ok(!no.shells.commands().includes('danger 10.99.0.11'));
    assert.equal(no.progress.step('s-destr'), undefined);
    const yes = harness({ confirm: true });
    assert.equal((await yes.runner.runStep('s-destr')).status, 'passed');
    assert.ok(yes.shells.commands().includes('danger 10.99.0.11'));
  });

  it('runs the commands and checks marked sudo (and only those) as root, and announces them so', async () => {
    const h = harness({ confirm: true });
    assert.equal((await h.runner.runStep('s-destr')).status, 'passed');
    assert.deepEqual(h.shells.sudoCommands(), ['danger 10.99.0.11', 'root-check']);
    assert.deepEqual(h.events.filter((e) => e.type === 'command').map((e) => [e.text, e.sudo]),
      [['danger 10.99.0.11', true], ['docker-only', undefined], ['root-check', true], ['true', undefined]]);
    await h.runner.reset();
    assert.ok(h.shells.sudoCommands().includes('undo-danger'), 'a cleanup marked sudo runs as root in reset');
  });

  it('picks command variants per node (lab-dockerd on node1 only in this fake)', async () => {
    const h = harness();
    await h.runner.runStep('s-variant');
    assert.deepEqual(h.shells.commands('docker-node1'), ['lab-way']);
    assert.deepEqual(h.shells.commands('docker-node2'), ['real-way']);
  });

  it('chooses the overlay path from the Docker version, and the learner\'s persisted choice wins', async () => {
    const old = harness({ docker: '20.10.24' });
    assert.equal((await old.runner.facts()).overlayPath, 'cluster-store');
    assert.equal((await old.runner.runStep('s-swarm')).status, 'skipped');
    const modern = harness({ docker: '26.1.5' });
    assert.equal((await modern.runner.facts()).overlayPath, 'swarm');
    assert.equal((await modern.runner.runStep('s-swarm')).status, 'passed');
    old.runner.setOverlayPath('swarm');
    const f = await old.runner.facts();
    assert.deepEqual([f.overlayPath, f.overlayPathSource], ['swarm', 'choice']);
    assert.equal(old.progress.progress.overlayPath, 'swarm');
  });

  it('on Docker 26 a saved cluster-store choice gives way to swarm: run --all runs, and the reason names the Docker', async () => {
    const modern = harness({ docker: '26.1.5+dfsg1' });
    modern.progress.setOverlayPath('cluster-store'); // saved on the legacy nodes, same hosts
    const f = await modern.runner.facts();
    assert.equal(f.overlayPath, 'swarm');
    assert.match(f.overlayPathDecision.reason, /^Docker 26\.1 on docker-node1 and docker-node2 has no --cluster-store \(removed in Docker 23\): taking the swarm path/);
    const results = await modern.runner.runAll();
    assert.equal(results.find((r) => r.stepId === 's-swarm')?.status, 'passed');
    assert.equal(modern.progress.progress.overlayPath, 'cluster-store', 'the saved choice stays for when the nodes run Docker 20.10 again');
  });

  it('on Docker 26 an explicit cluster-store path stops run --all before anything runs', async () => {
    const h = harness({ docker: '26.1.5+dfsg1' });
    const runner = new StepRunner({ lab: loadLab(writeLab(), { schemaFile }), shells: h.shells, progress: h.progress, overlayPath: 'cluster-store' });
    await assert.rejects(runner.runAll(), (e) => isLabError(e, 'NotSupported') && /docker-node1 runs Docker 26\.1\.5/.test(e.message));
    assert.deepEqual(h.shells.commands().filter((c) => c !== factsCommand), []);
  });

  it('refuses a step whose prerequisites have not passed (a prerequisite of another variant does not count)', async () => {
    const h = harness();
    const r = await h.runner.runStep('s-later');
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'Run s-run first.');
    assert.ok(!h.shells.commands().includes('later'));
    await h.runner.runStep('s-run');
    assert.equal((await h.runner.runStep('s-later')).status, 'passed');
  });

  it('verify: a step whose state a later step replaced is judged by its recorded pass', async () => {
    const h = harness();
    await h.runner.runStep('s-fail');
    const live = await h.runner.verifyStep('s-fail');
    assert.equal(live.supersededBy, undefined);
    assert.ok(h.shells.commands().includes('still-unpublished'));
    await h.runner.runStep('s-run');
    await h.runner.runStep('s-later');
    h.shells.calls.length = 0;
    const v = await h.runner.verifyStep('s-fail');
    assert.equal(v.status, 'passed');
    assert.equal(v.supersededBy, 's-later');
    assert.deepEqual(h.shells.commands(), []);
  });

  it('verify fails (and records it) when the state is gone', async () => {
    let gone = false;
    const h = harness({ handler: (_n, c) => (gone && c === `check ${firstBridgeIp}` ? { stdout: 'gone\n' } : undefined) });
    assert.equal((await h.runner.runStep('s-run')).status, 'passed');
    assert.equal((await h.runner.verifyStep('s-run')).status, 'passed');
    gone = true;
    const r = await h.runner.verifyStep('s-run');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /stdout does not match/);
    assert.equal(h.progress.step('s-run')?.status, 'failed');
  });

  it('runAll stops at the first failure; --from starts later', async () => {
    const h = harness({ handler: (_n, c) => (c === 'curl-refused' ? { stdout: 'served' } : undefined) });
    const all = await h.runner.runAll();
    assert.deepEqual(all.map((r) => [r.stepId, r.status]), [['s-run', 'passed'], ['s-fail', 'failed']]);
    const from = await h.runner.runAll({ from: 's-destr' });
    assert.deepEqual(from.map((r) => r.status), ['passed', 'passed', 'skipped', 'passed']);
  });

  it('cancels with the AbortSignal: status cancelled, nothing recorded', async () => {
    const ac = new AbortController();
    const h = harness({ handler: (_n, c) => { if (c === 'start-web busybox') { ac.abort(); } return undefined; } });
    const r = await h.runner.runStep('s-run', { signal: ac.signal });
    assert.equal(r.status, 'cancelled');
    assert.equal(h.progress.step('s-run'), undefined);
  });

  it('reset asks, runs every cleanup in reverse step order then the lab reset on both nodes, and clears progress', async () => {
    const h = harness();
    await h.runner.runStep('s-run');
    h.shells.calls.length = 0;
    const r = await h.runner.reset();
    assert.deepEqual(r, { ok: true, cancelled: false, failures: [] });
    assert.deepEqual(h.confirms.at(-1)?.commands.map((c) => c.command), ['undo-danger', 'cleanup-fail', 'cleanup-web', 'reset-all', 'reset-all']);
    assert.deepEqual(h.shells.calls.map((c) => `${c.node}:${c.command}`), ['docker-node1:undo-danger', 'docker-node1:cleanup-fail', 'docker-node1:cleanup-web', 'docker-node1:reset-all', 'docker-node2:reset-all']);
    assert.deepEqual(h.progress.progress.steps, {});
    assert.deepEqual(h.progress.progress.captures, {});
    const no = harness({ confirm: false });
    assert.equal((await no.runner.reset()).cancelled, true);
    assert.deepEqual(no.shells.commands(), []);
  });
});

describe('step runner: the kernel built-in (fake CentOS 7 node)', () => {
  function kernelHarness(confirm: boolean, opts: { pollsBeforeDown?: number; minimumKernel?: readonly [number, number]; debian?: boolean } = {}): {
    shells: FakeShells; runner: StepRunner; confirms: ConfirmRequest[]; events: RunEvent[]; rebooted: () => boolean;
  } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-kernel-'));
    const d = path.join(dir, 'k');
    fs.mkdirSync(d);
    const t = { en: 'T', 'zh-cn': 'T' };
    fs.writeFileSync(path.join(d, 'lab.json'), JSON.stringify({ kind: 'lab', schemaVersion: 1, id: 'kern', title: t, images: {}, clusterStoreMaxDockerMajor: 22, chapters: ['ch.json'] }));
    fs.writeFileSync(path.join(d, 'ch.json'), JSON.stringify({ kind: 'chapter', id: 'ch', title: t, nodes: 'node1', steps: [
      { id: 'kernel-up', title: t, nodes: 'node1', run: [{ builtin: 'kernelPlan' }], verify: [{ kind: 'command', run: 'uname -r', expect: { stdout: opts.debian === true ? '^6\\.12' : '^5\\.' } }] },
    ] }));
    let rebooted = false;
    // polls after the reboot command that still reach the old system (shutting down takes a while)
    let stillUp = opts.pollsBeforeDown ?? 0;
    const oldKernel = opts.debian === true ? '6.1.0-28-amd64' : '3.10.0-1160.el7.x86_64';
    const newKernel = opts.debian === true ? '6.12.48+deb12-amd64' : '5.4.278-1.el7.elrepo.x86_64';
    // FAKE: a CentOS 7 node on kernel 3.10 (or Debian 12 on 6.1) that comes back from its reboot with a newer kernel.
    const shells = new FakeShells((node, cmd) => {
      if (cmd === factsCommand) {
        const facts = factsText(node, '20.10.24', false);
        return { stdout: opts.debian === true ? facts : facts.replace('kernel=6.1.0-28-amd64', `kernel=${oldKernel}`)
          .replace(/--- os-release[\s\S]*$/, '--- os-release\nID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"') };
      }
      if (cmd.startsWith('nohup sh -c "sleep 2; reboot"')) { rebooted = true; return {}; }
      const booted = rebooted && stillUp-- <= 0;
      if (cmd === 'cat /proc/sys/kernel/random/boot_id') { return { stdout: 'boot-a\n' }; }
      if (cmd === 'cat /proc/sys/kernel/random/boot_id; uname -r') { return { stdout: booted ? `boot-b\n${newKernel}\n` : `boot-a\n${oldKernel}\n` }; }
      if (cmd === 'uname -r') { return { stdout: `${rebooted ? newKernel : oldKernel}\n` }; }
      return {};
    });
    const progress = new ProgressStore(path.join(dir, 'p.json'), 'k x');
    const confirms: ConfirmRequest[] = [];
    const events: RunEvent[] = [];
    const runner = new StepRunner({ lab: loadLab(d, { schemaFile }), shells, progress, sleep: () => Promise.resolve(), onEvent: (e) => events.push(e),
      ...(opts.minimumKernel === undefined ? {} : { minimumKernel: opts.minimumKernel }),
      confirm: (r) => { confirms.push(r); return Promise.resolve(confirm); } });
    return { shells, runner, confirms, events, rebooted: () => rebooted };
  }

  it('shows the plan, asks, runs it as root, reboots, reconnects and verifies the new kernel', async () => {
    const h = kernelHarness(true);
    const r = await h.runner.runStep('kernel-up');
    assert.equal(r.status, 'passed', r.message);
    assert.equal(h.confirms[0]?.kind, 'kernel');
    assert.equal(h.confirms[0]?.commands.at(-1)?.command, 'reboot');
    assert.ok(h.confirms[0]?.commands.every((c) => c.sudo === true), 'the confirmation says every command needs root');
    // the confirmation itself says why (a modal is read on its own): the node's kernel and the reason
    assert.match(h.confirms[0]?.notes?.[0] ?? '', /kernel 3\.10\.\S+: .*older than 3\.16/, JSON.stringify(h.confirms[0]?.notes));
    const cmds = h.shells.commands('docker-node1');
    assert.match(cmds[0] ?? '', /vault\.centos\.org/);
    assert.ok(cmds.indexOf('yum --enablerepo=elrepo-kernel install -y kernel-lt') < cmds.findIndex((c) => c.includes('reboot')));
    // every command of the plan and the reboot run as root; the polls and checks do not need it
    const asRoot = h.shells.sudoCommands('docker-node1');
    assert.ok(asRoot.includes('yum --enablerepo=elrepo-kernel install -y kernel-lt') && asRoot.some((c) => c.includes('reboot')), asRoot.join('\n'));
    assert.ok(!asRoot.includes('uname -r'));
    assert.ok(cmds.includes('uname -r'));
    assert.equal(h.rebooted(), true);
  });

  it('waits while the node has not gone down yet (same boot id, old kernel) instead of failing', async () => {
    const h = kernelHarness(true, { pollsBeforeDown: 3 });
    const r = await h.runner.runStep('kernel-up');
    assert.equal(r.status, 'passed', r.message);
    assert.ok(h.shells.commands('docker-node1').filter((c) => c.endsWith('; uname -r')).length >= 4);
    assert.ok(h.events.some((e) => /^Back after \d+ s with kernel 5\.4\.278/.test(e.text)));
  });

  it('a raised minimum kernel makes the upgrade needed on Debian 12\'s 6.1: apt-get through sudo', async () => {
    const h = kernelHarness(true, { debian: true, minimumKernel: [6, 2] });
    const r = await h.runner.runStep('kernel-up');
    assert.equal(r.status, 'passed', r.message);
    assert.ok(h.shells.sudoCommands('docker-node1').some((c) => c.includes('apt-get install')));
    const none = kernelHarness(true, { debian: true });
    assert.equal((await none.runner.runStep('kernel-up')).status, 'failed', 'without it 6.1 needs nothing (the verify wants 6.12 here)');
    assert.deepEqual(none.confirms, []);
  });

  it('declined: nothing runs and the step fails with the reason', async () => {
    const h = kernelHarness(false);
    const r = await h.runner.runStep('kernel-up');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /not confirmed/);
    assert.deepEqual(h.shells.commands(), []);
  });
});

describe('step runner helpers', () => {
  it('checks expectations', () => {
    assert.equal(unmetExpectation(undefined, { code: 0, stdout: '', stderr: '' }), undefined);
    assert.match(unmetExpectation({ exitCode: 'nonzero' }, { code: 0, stdout: '', stderr: '' }) ?? '', /expected nonzero/);
    assert.equal(unmetExpectation({ exitCode: 1, output: 'Address already in use' }, { code: 1, stdout: 'x', stderr: 'bind() failed (98: Address already in use)' }), undefined);
    assert.match(unmetExpectation({ stdoutNot: '\\S' }, { code: 0, stdout: '80/tcp -> 0.0.0.0:80', stderr: '' }) ?? '', /matches/);
  });
  it('reads dotted paths of docker inspect JSON', () => {
    const doc = { State: { Running: true }, NetworkSettings: { Networks: { 'my-overlay': { IPAddress: '10.0.0.2' } } }, HostConfig: { PortBindings: {} } };
    assert.equal(valueAtPath(doc, 'State.Running'), 'true');
    assert.equal(valueAtPath(doc, 'NetworkSettings.Networks.my-overlay.IPAddress'), '10.0.0.2');
    assert.equal(valueAtPath(doc, 'HostConfig.PortBindings'), '{}');
    assert.equal(valueAtPath(doc, 'State.Missing'), undefined);
  });
});

/** A small lab for the output and retry tests: an inspect check, a noisy command check, a retried docker run. */
function writeQuietLab(): string {
  const d = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-quiet-')), 'quiet');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'lab.json'), JSON.stringify({
    kind: 'lab', schemaVersion: 1, id: 'quiet', title: { en: 'Q', 'zh-cn': 'Q' }, images: { app: 'app:1' },
    clusterStoreMaxDockerMajor: 22, chapters: ['c1.json'], reset: [],
  }));
  const t = { en: 'T', 'zh-cn': 'T' };
  fs.writeFileSync(path.join(d, 'c1.json'), JSON.stringify({
    kind: 'chapter', id: 'c1', title: t, nodes: 'node2', steps: [
      {
        id: 'q-app', title: t, nodes: 'node2',
        probe: [{ kind: 'command', run: 'probe-app' }],
        run: [{ run: 'docker run -d --name app --network ov {{images.app}}', retry: { attempts: 11, delayMs: 1000, onOutput: 'network ov not found', undo: 'docker rm -f app' } }],
        verify: [
          { kind: 'docker', object: 'container', name: 'app', match: { 'State.Running': '^true$' }, describe: 'app runs' },
          { kind: 'command', run: 'noisy-check', expect: { stdout: 'all good' }, describe: 'the app answers' },
        ],
      },
    ],
  }));
  return d;
}

describe('step runner: quiet verification and the wait for an attachable network', () => {
  const bigJson = JSON.stringify([{ Id: 'f'.repeat(64), State: { Running: true, Status: 'running' }, Config: { Env: Array.from({ length: 200 }, (_, i) => `VAR_${i}=value-${i}`) } }], null, 2);
  function quietHarness(handler: (cmd: string) => Partial<ExecResult> | undefined): { shells: FakeShells; runner: StepRunner; events: RunEvent[]; sleeps: number[] } {
    const shells = new FakeShells((node, cmd) => {
      if (cmd === factsCommand) { return { stdout: factsText(node, '26.1.5', false) }; }
      return handler(cmd) ?? (cmd === 'probe-app' ? { code: 1 } : { code: 0 });
    });
    const progress = new ProgressStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-progress-')), 'p.json'), 'quiet');
    const events: RunEvent[] = [];
    const sleeps: number[] = [];
    const runner = new StepRunner({ lab: loadLab(writeQuietLab(), { schemaFile }), shells, progress, onEvent: (e) => events.push(e),
      sleep: (ms) => { sleeps.push(ms); return Promise.resolve(); } });
    return { shells, runner, events, sleeps };
  }
  const streamed = (events: RunEvent[]): string => events.filter((e) => e.type === 'stdout' || e.type === 'stderr').map((e) => e.text).join('');

  it('verify checks print one bounded line each instead of the inspect JSON; probes print nothing', async () => {
    const h = quietHarness((cmd) => {
      if (cmd === 'probe-app') { return { code: 1, stdout: `probe noise ${'p'.repeat(3000)}\n` }; }
      if (cmd === 'docker container inspect app') { return { stdout: bigJson }; }
      if (cmd === 'noisy-check') { return { stdout: `all good\n${'x'.repeat(5000)}\n` }; }
      return undefined;
    });
    const r = await h.runner.runStep('q-app');
    assert.equal(r.status, 'passed', r.message);
    const out = streamed(h.events);
    assert.ok(!out.includes('VAR_1') && !out.includes('probe noise') && !out.includes('xxxx'), `check output leaked into the step output: ${out.slice(0, 200)}`);
    const lines = h.events.filter((e) => e.type === 'info' && /^(ok|FAILED): /.test(e.text)).map((e) => e.text);
    assert.deepEqual(lines, ['ok: app runs -> State.Running=true', 'ok: the app answers -> all good']);
    // the commands are still announced
    assert.ok(h.events.some((e) => e.type === 'command' && e.text === 'docker container inspect app'));
    assert.ok(h.events.some((e) => e.type === 'command' && e.text === 'noisy-check'));
  });

  it('a failed check still says what was expected and what was found, in one bounded line', async () => {
    const h = quietHarness((cmd) => {
      if (cmd === 'docker container inspect app') { return { stdout: bigJson.replace('"Running": true', '"Running": false') }; }
      return undefined;
    });
    const r = await h.runner.runStep('q-app');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /Verification failed: app runs: container app on docker-node2: State\.Running = false \(want \/\^true\$\/\)/);
    const line = h.events.find((e) => e.type === 'info' && e.text.startsWith('FAILED: '))?.text ?? '';
    assert.match(line, /^FAILED: app runs -> .*State\.Running = false \(want/);
    assert.ok(line.length <= 200 && !line.includes('\n'));
    assert.ok(!streamed(h.events).includes('VAR_1'));

    const h2 = quietHarness((cmd) => {
      if (cmd === 'docker container inspect app') { return { stdout: bigJson }; }
      if (cmd === 'noisy-check') { return { stdout: `${'y'.repeat(5000)}\nonly half good\n` }; }
      return undefined;
    });
    const r2 = await h2.runner.runStep('q-app');
    assert.equal(r2.status, 'failed');
    assert.match(r2.message, /the app answers: stdout does not match \/all good\/ \(.*only half good\)/);
    assert.ok(r2.message.length < 700, `message length ${r2.message.length}`);
  });

  it('retries docker run while the overlay is not visible on the worker yet, removing the half-created container between attempts', async () => {
    let left = 2;
    const h = quietHarness((cmd) => {
      if (cmd === 'docker run -d --name app --network ov app:1') {
        if (left > 0) { left--; return { code: 125, stderr: 'docker: Error response from daemon: Could not attach to network ov: rpc error: code = NotFound desc = network ov not found.' }; }
        return { stdout: 'c0ffee\n' };
      }
      if (cmd === 'docker container inspect app') { return { stdout: bigJson }; }
      if (cmd === 'noisy-check') { return { stdout: 'all good\n' }; }
      return undefined;
    });
    const r = await h.runner.runStep('q-app');
    assert.equal(r.status, 'passed', r.message);
    const runs = h.shells.commands('docker-node2').filter((c) => c.startsWith('docker run') || c.startsWith('docker rm'));
    assert.deepEqual(runs, ['docker run -d --name app --network ov app:1', 'docker rm -f app', 'docker run -d --name app --network ov app:1', 'docker rm -f app', 'docker run -d --name app --network ov app:1']);
    assert.deepEqual(h.sleeps, [1000, 1000]);
    assert.ok(h.events.some((e) => e.type === 'info' && /trying again in 1000 ms \(attempt 2 of 11\)/.test(e.text)));
  });

  it('gives up after the bounded attempts (about 10 s), and does not retry any other error', async () => {
    const runFails = (stderr: string): ReturnType<typeof quietHarness> => quietHarness((cmd) => (cmd.startsWith('docker run') ? { code: 125, stderr } : undefined));
    const h = runFails('docker: Error response from daemon: network ov not found.');
    const r = await h.runner.runStep('q-app');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /network ov not found/);
    assert.equal(h.shells.commands().filter((c) => c.startsWith('docker run')).length, 11);
    assert.equal(h.sleeps.reduce((a, b) => a + b, 0), 10_000);

    const other = runFails('docker: Error response from daemon: Conflict. The container name "/app" is already in use.');
    const r2 = await other.runner.runStep('q-app');
    assert.equal(r2.status, 'failed');
    assert.equal(other.shells.commands().filter((c) => c.startsWith('docker')).length, 1, 'no retry and no undo for another error');
    assert.deepEqual(other.sleeps, []);
  });

  it('an unknown step id is echoed with its control characters escaped and its length capped', async () => {
    const h = quietHarness(() => undefined);
    const hostile = `\x1b[2J\x1b]0;pwned\x07evil\nstep\u202e${'A'.repeat(5000)}`;
    for (const call of [() => h.runner.runStep(hostile), () => h.runner.verifyStep(hostile), () => h.runner.runAll({ from: hostile }), () => h.runner.plannedCommands(hostile)]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(isLabError(e, 'NotFound'), String(e));
        // eslint-disable-next-line no-control-regex -- looking for control characters is the point
        assert.doesNotMatch(e.message, /[\x00-\x1f\x7f\u202e]/);
        assert.match(e.message, /There is no step "\\x1b\[2J\\x1b\]0;pwned\\x07evil\\nstep\\u202eAAA/);
        assert.ok(e.message.length < 200, `message length ${e.message.length}`);
        return true;
      });
    }
    assert.deepEqual(h.shells.commands(), []);
  });
});
