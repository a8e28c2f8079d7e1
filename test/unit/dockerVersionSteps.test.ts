import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Action, CommandAction } from '../../src/core/lab/labDefinition';
import { allSteps, findStep, isBuiltin } from '../../src/core/lab/labDefinition';
import { parseFacts } from '../../src/core/lab/labFacts';
import { defaultLabDir, loadLab } from '../../src/core/lab/loadLab';
import { conditionHolds } from '../../src/core/lab/stepRunner';
import { factsText } from './fakeShells';

// Steps that depend on the node's Docker version: legacy --link environment variables (REDIS_PORT_6379_TCP_ADDR …)
// are not set any more from Docker 29 on; there the lab checks the link alias by name instead.

const lab = loadLab(defaultLabDir('docker-networking', __dirname));
const node1 = (docker: string): ReturnType<typeof parseFacts> => parseFacts('docker-node1', '10.99.0.11', factsText('docker-node1', docker, true));
const linkVariable = /\b[A-Z][A-Z0-9_]*_PORT_\d+_TCP(_ADDR|_PORT|_PROTO)?\b/;

/** The run commands of a step that apply on node1 with this Docker. */
function commandsOn(stepId: string, docker: string): CommandAction[] {
  const step = findStep(lab, stepId)?.step;
  assert.ok(step !== undefined, stepId);
  return step.run.filter((a: Action): a is CommandAction => !isBuiltin(a) && conditionHolds(a.when, node1(docker), 'swarm'));
}

describe('steps that depend on the Docker version', () => {
  it('the dockerMajor condition holds within its inclusive bounds, never for an unknown version', () => {
    assert.equal(conditionHolds({ dockerMajor: { min: 29 } }, node1('29.0.1'), 'swarm'), true);
    assert.equal(conditionHolds({ dockerMajor: { min: 29 } }, node1('28.5.2+dfsg3'), 'swarm'), false);
    assert.equal(conditionHolds({ dockerMajor: { max: 28 } }, node1('28.5.2+dfsg3'), 'swarm'), true);
    assert.equal(conditionHolds({ dockerMajor: { max: 28 } }, node1('20.10.24+dfsg1'), 'swarm'), true);
    assert.equal(conditionHolds({ dockerMajor: { min: 23, max: 28 } }, node1('26.1.5+dfsg1'), 'swarm'), true);
    assert.equal(conditionHolds({ dockerMajor: { min: 29 } }, node1(''), 'swarm'), false);
    assert.equal(conditionHolds({ dockerMajor: { max: 28 } }, node1(''), 'swarm'), false);
  });

  it('ch3 on Docker 20.10 and 26 checks REDIS_PORT_6379_TCP_ADDR; on Docker 29 it resolves the link alias instead', () => {
    for (const docker of ['20.10.24+dfsg1', '26.1.5+dfsg1']) {
      const cmds = commandsOn('ch3-run-flask-link', docker);
      assert.ok(cmds.some((c) => c.run.includes('printenv REDIS_PORT_6379_TCP_ADDR') && c.expect?.stdout !== undefined), docker);
    }
    const modern = commandsOn('ch3-run-flask-link', '29.0.1');
    assert.deepEqual(modern.filter((c) => linkVariable.test(c.run)).map((c) => c.run), []);
    // the getent line is sample text the expectation is matched against (a container's address on a node's
    // docker0 bridge, as getent prints it); nothing connects to it
    assert.ok(modern.some((c) => c.run === 'docker exec flask-redis getent hosts redis' && new RegExp(c.expect?.stdout ?? '^$', 'm').test('172.17.0.2      redis 0123456789ab')));
  });

  it('no command, check or expectation that applies on Docker 29 relies on a legacy link variable', () => {
    const found: string[] = [];
    for (const { step } of allSteps(lab)) {
      for (const a of [...step.prepare, ...step.run]) {
        if (isBuiltin(a) || !conditionHolds(a.when, node1('29.0.1'), 'swarm', true)) { continue; }
        if (linkVariable.test(a.run) || linkVariable.test(JSON.stringify(a.expect ?? {}))) { found.push(`${step.id}: ${a.run}`); }
      }
      for (const c of [...step.probe, ...step.verify]) {
        if (conditionHolds(c.when, node1('29.0.1'), 'swarm', true) && linkVariable.test(JSON.stringify(c))) { found.push(`${step.id}: ${JSON.stringify(c)}`); }
      }
    }
    assert.deepEqual(found, []);
  });
});
