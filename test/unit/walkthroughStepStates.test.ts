// Pure logic of the Lab Steps feature: state table (persistence, listeners, running never saved),
// what counts as done (context key set), chapter progress per overlay path, command arguments,
// the destructive-step confirmation text.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ChapterDefinition, StepDefinition } from '../../src/core/lab/labDefinition';
import { loadLab } from '../../src/core/lab/loadLab';
import { forwardEvent, outcomeOf } from '../../src/vscode/steps/coreLabBackend';
import { confirmationDetail, outcomeState, stepIdArgument } from '../../src/vscode/steps/labBackend';
import type { StepRecord } from '../../src/vscode/steps/stepStates';
import { StepStateTable, appliesToPath, chapterProgress, isDone, stateIcon, stepContextValue, stepIds } from '../../src/vscode/steps/stepStates';
import { repoRoot } from './walkthroughGen';

function step(id: string, extra: Partial<StepDefinition> = {}): StepDefinition {
  return { id, title: { en: id, 'zh-cn': id }, nodes: 'node1', prerequisites: [], destructive: false, probe: [], prepare: [], run: [], verify: [], cleanup: [], supersededBy: [], ...extra };
}

const chapter: ChapterDefinition = {
  id: 'c', title: { en: 'C', 'zh-cn': 'C' }, nodes: 'both', file: 'c.json',
  steps: [step('a'), step('b', { when: { overlayPath: 'cluster-store' } }), step('c', { when: { overlayPath: 'swarm' } }), step('d')],
};

describe('walkthrough step states', () => {
  it('only verified and expected-failure steps are done', () => {
    assert.deepEqual((['notRun', 'running', 'verified', 'expectedFailure', 'failed', 'notApplicable'] as const).filter(isDone), ['verified', 'expectedFailure']);
  });

  it('the table persists every change except running, and notifies listeners', () => {
    const saved: Record<string, StepRecord>[] = [];
    const t = new StepStateTable((r) => { saved.push(JSON.parse(JSON.stringify(r)) as Record<string, StepRecord>); });
    const seen: string[] = [];
    const off = t.onDidChange((ids) => { seen.push(...ids); });
    assert.equal(t.state('x'), 'notRun');
    t.set('x', 'running', undefined, 1);
    assert.equal(t.state('x'), 'running');
    assert.deepEqual(saved.at(-1), {}, 'running is not persisted');
    t.set('x', 'verified', undefined, 2);
    t.set('x', 'verified', undefined, 3);
    assert.equal(saved.length, 2, 'unchanged state does not save again');
    assert.deepEqual(saved.at(-1), { x: { state: 'verified', at: 2 } });
    t.set('y', 'failed', 'boom', 4);
    assert.equal(t.record('y')?.message, 'boom');
    off();
    t.set('z', 'verified');
    assert.deepEqual(seen, ['x', 'x', 'y']);
  });

  it('load replaces everything and drops running entries', () => {
    const t = new StepStateTable();
    t.set('old', 'verified');
    const seen: string[][] = [];
    t.onDidChange((ids) => { seen.push([...ids]); });
    t.load({ a: { state: 'expectedFailure', at: 1 }, b: { state: 'running', at: 1 } });
    assert.equal(t.state('old'), 'notRun');
    assert.equal(t.state('a'), 'expectedFailure');
    assert.equal(t.state('b'), 'notRun');
    assert.deepEqual(seen[0]?.sort(), ['a', 'b', 'old']);
    assert.deepEqual(Object.keys(t.snapshot()), ['a']);
  });

  it('steps of the other overlay path do not count; with no choice every step counts', () => {
    const states: Record<string, 'verified' | 'failed'> = { a: 'verified', b: 'verified', c: 'failed' };
    const stateOf = (id: string): 'verified' | 'failed' | 'notRun' => states[id] ?? 'notRun';
    assert.deepEqual(chapterProgress(chapter, stateOf, 'cluster-store'), { done: 2, total: 3, failed: false, running: false });
    assert.deepEqual(chapterProgress(chapter, stateOf, 'swarm'), { done: 1, total: 3, failed: true, running: false });
    assert.deepEqual(chapterProgress(chapter, stateOf, undefined), { done: 2, total: 4, failed: true, running: false });
    assert.equal(appliesToPath(chapter.steps[1]!, 'swarm'), false);
    assert.equal(appliesToPath(chapter.steps[0]!, 'swarm'), true);
  });

  it('tree context values carry the state and the flags the menus match on', () => {
    const s = step('s', { destructive: true, expectFailure: { run: 'false', explanation: { en: 'x', 'zh-cn': 'x' } } });
    assert.equal(stepContextValue(s, 'failed'), 'step.failed.expectFailure.destructive');
    assert.equal(stepContextValue(step('t'), 'notRun'), 'step.notRun');
    assert.match(stepContextValue(step('t'), 'verified'), /^step\.(notRun|verified|expectedFailure|failed|notApplicable)/, 'matches the inline run/verify menu regex');
    assert.doesNotMatch(stepContextValue(step('t'), 'running'), /^step\.(notRun|verified|expectedFailure|failed|notApplicable)/, 'no inline run while running');
    assert.notEqual(stateIcon('expectedFailure').color, stateIcon('failed').color, 'expected failures look different from failures');
  });

  it('commands accept a step id, a tree node, or nothing', () => {
    assert.equal(stepIdArgument('ch1-run-web'), 'ch1-run-web');
    assert.equal(stepIdArgument({ kind: 'step', chapter, step: chapter.steps[0] }), 'a');
    assert.equal(stepIdArgument({ kind: 'chapter', chapter }), undefined);
    assert.equal(stepIdArgument(undefined), undefined);
    assert.equal(outcomeState('cancelled'), undefined);
    assert.equal(outcomeState('expectedFailure'), 'expectedFailure');
  });

  it('the confirmation lists every command under its node', () => {
    const text = confirmationDetail([
      { node: 'docker-node1', command: 'systemctl stop docker' },
      { node: 'docker-node1', command: 'dockerd --cluster-store=etcd://x:2379' },
      { node: 'docker-node2', command: 'systemctl stop docker' },
    ]);
    assert.equal(text, 'On docker-node1:\n  $ systemctl stop docker\n  $ dockerd --cluster-store=etcd://x:2379\nOn docker-node2:\n  $ systemctl stop docker');
    assert.match(confirmationDetail([{ node: 'n', command: 'reboot' }], ['ELRepo may be gone']), /\$ reboot\n\nNote: ELRepo may be gone$/);
  });

  it('the confirmation marks the commands that need root with #', () => {
    assert.equal(confirmationDetail([{ node: 'n', command: 'iptables -S INPUT', sudo: true }, { node: 'n', command: 'docker ps' }]), 'On n:\n  # iptables -S INPUT\n  $ docker ps');
  });

  it('the shipped lab has one state row per step id', () => {
    const lab = loadLab(path.join(repoRoot, 'labs', 'docker-networking'));
    const ids = stepIds(lab);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.includes('ch1-run-web'));
  });

  it('runner results map onto display states; an observed expected failure is its own state', () => {
    const ef = { observed: true, explanation: { en: 'x', 'zh-cn': 'x' } };
    assert.equal(outcomeOf({ status: 'passed' }), 'verified');
    assert.equal(outcomeOf({ status: 'passed', expectedFailure: ef }), 'expectedFailure');
    assert.equal(outcomeOf({ status: 'passed', expectedFailure: { ...ef, observed: false } }), 'verified');
    assert.equal(outcomeOf({ status: 'failed', expectedFailure: ef }), 'failed');
    assert.equal(outcomeOf({ status: 'skipped' }), 'notApplicable');
    assert.equal(outcomeOf({ status: 'cancelled' }), 'cancelled');
  });

  it('runner events reach the output with the node named', () => {
    const got: string[] = [];
    const l = {
      onCommand: (n: string, c: string) => { got.push(`cmd ${n} ${c}`); },
      onOutput: (n: string, c: string, s: string) => { got.push(`${s} ${n} ${c}`); },
      onMessage: (t: string) => { got.push(`msg ${t}`); },
    };
    forwardEvent({ type: 'command', node: 'docker-node1', text: 'docker ps' }, l);
    forwardEvent({ type: 'stdout', node: 'docker-node1', text: 'out' }, l);
    forwardEvent({ type: 'stderr', node: 'docker-node2', text: 'err' }, l);
    forwardEvent({ type: 'info', node: 'docker-node2', text: 'Failed as expected' }, l);
    forwardEvent({ type: 'result', stepId: 's', status: 'passed', text: 'Done and verified.' }, l);
    assert.deepEqual(got, ['cmd docker-node1 docker ps', 'stdout docker-node1 out', 'stderr docker-node2 err',
      'msg ℹ [docker-node2] Failed as expected', 'msg ■ passed: Done and verified.']);
  });
});
