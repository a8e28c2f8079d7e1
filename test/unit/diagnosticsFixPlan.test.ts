import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fixActionCommands, fixPlan } from '../../src/core/diagnostics/fixPlan';
import { diagnoseText } from '../../src/core/diagnostics/matcher';
import { parseFirewall } from '../../src/core/diagnostics/nodeFacts';
import { checkFirewall } from '../../src/core/diagnostics/stateChecks';
import type { Finding } from '../../src/core/diagnostics/ruleTypes';

function only(text: string, ruleId: string, context: Record<string, string> = {}): Finding {
  const f = diagnoseText(text, { context }).find((x) => x.ruleId === ruleId);
  assert.ok(f !== undefined, `${ruleId} not found in: ${text}`);
  return f;
}

const steps = new Set(['ch1-publish-port', 'ch4-firewall', 'ch4-swarm-init']);

describe('fix plans (machine-applicable fixes)', () => {
  it('fills fix commands from the message: port and container', () => {
    const port = only('docker: Error response from daemon: driver failed programming external connectivity on endpoint diag-b (0f1e): Bind for 0.0.0.0:8080 failed: port is already allocated.', 'port-already-allocated');
    assert.deepEqual(fixPlan(port, steps), { kind: 'commands', commands: ['docker ps -q --filter publish=8080 | xargs -r docker rm -f'], destructive: true });
    const name = only('docker: Error response from daemon: Conflict. The container name "/web" is already in use by container "3f2a9c". You have to remove (or rename) that container to be able to reuse that name.', 'container-name-conflict');
    assert.deepEqual(fixPlan(name, steps), { kind: 'commands', commands: ['docker rm -f web'], destructive: true });
  });

  it('does not apply commands with a placeholder the message and the context leave open', () => {
    const log = 'nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)';
    const open = fixPlan(only(log, 'nginx-host-network-bind-failed'), steps);
    assert.equal(open.kind, 'none');
    const filled = fixPlan(only(log, 'nginx-host-network-bind-failed', { container: 'nginx-host1' }), steps);
    assert.deepEqual(filled.kind === 'commands' ? filled.commands : [], ['docker ps -q --filter publish=80 | xargs -r docker rm -f', 'docker start nginx-host1']);
  });

  it('turns fix actions into a step or into commands', () => {
    const curl = only('curl: (7) Failed to connect to 127.0.0.1 port 80 after 0 ms: Connection refused', 'curl-connection-refused-no-publish');
    assert.deepEqual(fixPlan(curl, steps), { kind: 'step', stepId: 'ch1-publish-port', destructive: true });
    assert.equal(fixPlan(curl, new Set()).kind, 'none');
    const v2 = only('404 page not found', 'etcd-v2-api-404');
    const plan = fixPlan(v2, steps);
    assert.equal(plan.kind, 'commands');
    assert.deepEqual(plan.kind === 'commands' ? plan.commands : [], fixActionCommands['etcd.enableV2']);
    assert.match(plan.kind === 'commands' ? plan.commands.join('\n') : '', /--enable-v2/);
  });

  it('a rule with only prose has no plan', () => {
    const typo = only("unknown shorthand flag: 'n' in -net", 'unknown-shorthand-flag-net');
    assert.equal(fixPlan(typo, steps).kind, 'none');
  });

  it('the iptables firewall finding removes the blocking rule', () => {
    const firewall = parseFirewall('', '', '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 2380 -j DROP\n');
    const [f] = checkFirewall({ name: 'docker-node2', firewall });
    assert.ok(f !== undefined);
    assert.equal(f.facts['ports'], '2380/tcp');
    const plan = fixPlan(f, steps);
    assert.equal(plan.kind, 'commands');
    const cmds = plan.kind === 'commands' ? plan.commands : [];
    assert.equal(cmds.length, 2);
    assert.equal(cmds[0], 'iptables -D INPUT -p tcp -m tcp --dport 2380 -j DROP');
    assert.match(cmds[1] ?? '', /-P INPUT ACCEPT' \|\| iptables -I INPUT -p tcp --dport 2380 -j ACCEPT/);
  });
});
