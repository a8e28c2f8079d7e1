import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { factsCommand } from '../../src/core/lab/labFacts';
import { defaultLabDir, loadLab } from '../../src/core/lab/loadLab';
import { ProgressStore } from '../../src/core/lab/progressStore';
import type { ConfirmRequest } from '../../src/core/lab/stepRunner';
import { StepRunner } from '../../src/core/lab/stepRunner';
import type { ExecResult, RemoteShell, ShellProvider } from '../../src/core/remoteShell';

// Every destructive step of the real lab definition, and reset, asks the confirm callback before any of
// its changing commands runs; declined (or with no callback at all), none of them runs.

function facts(node: string): string {
  const ip = node === 'docker-node1' ? '10.99.0.11' : '10.99.0.12';
  return [`hostname=${node}`, 'docker=20.10.24', 'etcd=3.4.23', 'kernel=6.1.0-28-amd64', 'labDockerd=yes', 'firewall=none', 'swarm=inactive',
    'clusterStore=', `ips=${ip}`, '--- os-release', 'ID=debian', 'VERSION_ID="12"'].join('\n');
}

/** A FAKE shell provider: answers the facts command, fails every probe (so steps are not "in place"), records the rest. */
function fakeShells(log: string[]): ShellProvider {
  return {
    nodeNames: () => ['docker-node1', 'docker-node2'],
    shell: (node: string): Promise<RemoteShell> => Promise.resolve({
      node,
      exec: (command: string): Promise<ExecResult> => {
        if (command === factsCommand) { return Promise.resolve({ code: 0, stdout: facts(node), stderr: '' }); }
        log.push(`${node}: ${command}`);
        return Promise.resolve({ code: 1, stdout: '', stderr: '' });
      },
    }),
  };
}

describe('destructive steps and reset always ask first', () => {
  const lab = loadLab(defaultLabDir('docker-networking', __dirname));
  const destructive = lab.chapters.flatMap((c) => c.steps).filter((s) => s.destructive);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-destructive-'));

  it('the lab has destructive steps to check', () => { assert.ok(destructive.length >= 1); });

  for (const step of destructive) {
    for (const mode of ['declined', 'no callback'] as const) {
      it(`${step.id}: ${mode} -> confirm asked first (when present), none of its commands runs`, async () => {
        const log: string[] = [];
        const asked: ConfirmRequest[] = [];
        let logAtConfirm = -1;
        const runner = new StepRunner({
          lab, shells: fakeShells(log), progress: new ProgressStore(path.join(tmp, `${step.id}-${mode}.json`), 'x'),
          hosts: { 'docker-node1': '10.99.0.11', 'docker-node2': '10.99.0.12' }, sleep: () => Promise.resolve(),
          ...(mode === 'declined' ? { confirm: (r: ConfirmRequest) => { asked.push(r); logAtConfirm = log.length; return Promise.resolve(false); } } : {}),
        });
        const planned = (await runner.plannedCommands(step.id)).map((c) => `${c.node}: ${c.command}`);
        const r = await runner.runStep(step.id, { ignorePrerequisites: true });
        assert.notEqual(r.status, 'passed');
        // a step that does not apply on this overlay path is skipped before asking; then only the planned-commands check applies
        if (mode === 'declined' && r.status !== 'skipped') {
          assert.equal(asked.length, 1, 'asked exactly once');
          assert.equal(asked[0]?.stepId, step.id);
          assert.ok(log.slice(0, logAtConfirm).every((c) => !planned.includes(c)), 'a changing command ran before the confirmation');
        }
        for (const c of planned) { assert.ok(!log.includes(c), `ran without confirmation: ${c}`); }
      });
    }
  }

  it('reset: declined or without a callback, nothing runs', async () => {
    for (const confirm of [() => Promise.resolve(false), undefined]) {
      const log: string[] = [];
      const runner = new StepRunner({ lab, shells: fakeShells(log), progress: new ProgressStore(path.join(tmp, 'reset.json'), 'x'), sleep: () => Promise.resolve(),
        ...(confirm === undefined ? {} : { confirm }) });
      const r = await runner.reset();
      assert.equal(r.ok, false);
      assert.deepEqual(log, []);
    }
  });
});
