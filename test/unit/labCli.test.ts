import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/cliIo';
import { confirmOnTerminal, eventPrinter, parsePath, summarize } from '../../src/cli/commands/run';
import { minimumKernelFromEnv } from '../../src/core/lab/kernelPlan';
import { isLabError } from '../../src/core/errors';

function io(): CliIo & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => { out.push(t); }, err: (t) => { err.push(t); }, env: {}, signal: new AbortController().signal,
    outText: () => out.join(''), errText: () => err.join(''),
  };
}

describe('guided lab CLI helpers', () => {
  it('echoes commands with their node and prefixes every output line, joining split chunks', () => {
    const t = io();
    const p = eventPrinter(t);
    p({ type: 'step', stepId: 'ch1-run-web', text: 'Run nginx' });
    p({ type: 'command', node: 'docker-node1', stepId: 'ch1-run-web', text: 'docker run -d --name web nginx' });
    p({ type: 'stdout', node: 'docker-node1', text: 'abc' });
    p({ type: 'stdout', node: 'docker-node1', text: '123\nsecond line\n' });
    p({ type: 'stderr', node: 'docker-node2', text: 'warning without newline' });
    p({ type: 'result', stepId: 'ch1-run-web', status: 'passed', text: 'Done and verified.' });
    assert.equal(t.outText(), '\n== ch1-run-web: Run nginx\n[docker-node1]$ docker run -d --name web nginx\n[docker-node1] abc123\n[docker-node1] second line\n-> PASSED ch1-run-web: Done and verified.\n');
    assert.equal(t.errText(), '[docker-node2] warning without newline\n');
  });
  it('a command that needs root is echoed with # (and the listing of a confirmation too)', async (ctx) => {
    const t = io();
    eventPrinter(t)({ type: 'command', node: 'docker-node1', text: 'iptables -S INPUT', sudo: true });
    assert.equal(t.outText(), '[docker-node1]# iptables -S INPUT\n');
    if (process.stdin.isTTY === true) { ctx.skip('stdin is a terminal here; the listing case needs a non-TTY stdin'); return; }
    await confirmOnTerminal(t, { kind: 'kernel', title: 'Kernel', commands: [{ node: 'docker-node1', command: 'reboot', sudo: true }] }, false);
    assert.match(t.errText(), /\[docker-node1\]# reboot/);
  });
  it('DOCKER_NET_LAB_MIN_KERNEL raises the kernel the kernel step wants; anything but major.minor is refused', () => {
    assert.deepEqual(minimumKernelFromEnv({ DOCKER_NET_LAB_MIN_KERNEL: '6.2' }), [6, 2]);
    assert.equal(minimumKernelFromEnv({}), undefined);
    assert.throws(() => minimumKernelFromEnv({ DOCKER_NET_LAB_MIN_KERNEL: '6.2; reboot' }), (e: unknown) => isLabError(e, 'InvalidInput'));
  });
  it('without --yes and without a TTY a confirmation is declined, listing the exact commands', async (ctx) => {
    if (process.stdin.isTTY === true) { ctx.skip('stdin is a terminal here; this case needs a non-TTY stdin'); return; }
    const t = io();
    const ok = await confirmOnTerminal(t, { kind: 'step', title: 'Restart dockerd', commands: [{ node: 'docker-node1', command: 'lab-dockerd restart swarm' }] }, false);
    assert.equal(ok, false);
    assert.match(t.errText(), /--yes[\s\S]*\[docker-node1\]\$ lab-dockerd restart swarm/);
    assert.equal(await confirmOnTerminal(t, { kind: 'reset', title: 'x', commands: [] }, true), true);
  });
  it('exits 0 only when every step passed or does not apply', () => {
    const base = { message: 'm', checks: [], durationMs: 1 };
    assert.equal(summarize(io(), [{ stepId: 'a', status: 'passed', ...base }, { stepId: 'b', status: 'skipped', ...base }], false), 0);
    assert.equal(summarize(io(), [{ stepId: 'a', status: 'passed', ...base }, { stepId: 'b', status: 'cancelled', ...base }], false), 1);
    assert.equal(summarize(io(), [], false), 1);
    const t = io();
    assert.equal(summarize(t, [{ stepId: 'a', status: 'failed', ...base }], true), 1);
    assert.equal(JSON.parse(t.outText()).ok, false);
  });
  it('accepts only the two overlay paths', () => {
    assert.equal(parsePath('swarm'), 'swarm');
    assert.equal(parsePath(undefined), undefined);
    assert.throws(() => parsePath('etcd'), (e) => isLabError(e, 'InvalidInput'));
  });
});
