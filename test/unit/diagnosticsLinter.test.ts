import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { lintKindForFile, lintRelatedRules, lintText } from '../../src/core/diagnostics/commandLinter';
import { ruleById } from '../../src/core/diagnostics/rules';
import type { LintEdit, LintFinding } from '../../src/core/diagnostics/commandLinter';

/** Applies quick-fix edits (1-based lines/columns) to a text, last edit first. */
function applyEdits(text: string, edits: readonly LintEdit[]): string {
  const lines = text.split('\n');
  for (const e of [...edits].sort((a, b) => b.line - a.line || b.column - a.column)) {
    const l = lines[e.line - 1] ?? '';
    lines[e.line - 1] = l.slice(0, e.column - 1) + e.newText + l.slice(e.endColumn - 1);
  }
  return lines.join('\n');
}

function only(findings: LintFinding[], ruleId: string): LintFinding {
  const f = findings.filter((x) => x.ruleId === ruleId);
  assert.equal(f.length, 1, `expected one ${ruleId}, got ${JSON.stringify(findings.map((x) => x.ruleId))}`);
  return f[0]!;
}

describe('command linter', () => {
  it('flags -net and other single-dash long flags, with a quick fix that adds the dash', () => {
    const text = 'docker run -d --name redis -net my-overlay redis';
    const f = only(lintText(text), 'lint-single-dash-long-flag');
    assert.deepEqual([f.line, f.column, f.endColumn, f.severity], [1, 28, 32, 'error']);
    assert.equal(applyEdits(text, f.quickFix!.edits), 'docker run -d --name redis --net my-overlay redis');
    for (const flag of ['-name web', '-network none', '-link redis', '-rm', '-publish 80:80']) {
      const t = `docker run -d ${flag} nginx`;
      const g = only(lintText(t), 'lint-single-dash-long-flag');
      assert.equal(applyEdits(t, g.quickFix!.edits), `docker run -d -${flag} nginx`);
    }
  });

  it('does not flag short flag bundles, etcd\'s single-dash flags, or words after the image', () => {
    const text = [
      'docker run -dit --name box -p 80:80 -e A=1 busybox sh -c "ping -net"',
      'docker exec -it test1 ip -net a',
      'etcd -name docker-node1 -initial-cluster-state new',
      'docker network create -d overlay my-overlay',
    ].join('\n');
    assert.deepEqual(lintText(text).filter((f) => f.ruleId === 'lint-single-dash-long-flag'), []);
  });

  it('warns about -p with --network host and removes the mapping', () => {
    const text = 'docker run -d --name web-host --network host -p 80:80 nginx';
    const f = only(lintText(text), 'lint-publish-with-host-network');
    assert.equal(f.severity, 'warning');
    assert.equal(applyEdits(text, f.quickFix!.edits), 'docker run -d --name web-host --network host nginx');
    assert.equal(lintText('docker run -d --net=host -P nginx').filter((x) => x.ruleId === 'lint-publish-with-host-network').length, 1);
    assert.deepEqual(lintText('docker run -d --network bridge -p 80:80 nginx'), []);
  });

  it('notes --link on the default bridge only', () => {
    only(lintText('docker run -d --link redis --name flask-redis -e REDIS_HOST=redis u/flask-redis'), 'lint-link-default-bridge');
    assert.deepEqual(lintText('docker run -d --network appnet --link redis --name f u/flask-redis'), []);
  });

  it('reports --cluster-store by the node\'s Docker version', () => {
    const text = 'sudo dockerd -H tcp://0.0.0.0:2375 -H unix:///var/run/docker.sock --cluster-store=etcd://10.99.0.11:2379 --cluster-advertise=10.99.0.11:2375';
    const modern = only(lintText(text, { dockerVersion: '26.1.5' }), 'lint-cluster-store-modern-docker');
    assert.equal(modern.severity, 'error');
    assert.match(modern.message, /26\.1\.5/);
    assert.equal(only(lintText(text, { dockerVersion: '20.10.24' }), 'lint-cluster-store-deprecated').severity, 'info');
    assert.equal(only(lintText(text), 'lint-cluster-store-deprecated').severity, 'info');
    only(lintText('dockerd --cluster-advertise=10.99.0.11:2375'), 'lint-cluster-advertise-without-store');
  });

  it('flags etcdctl v2 commands under the v3 API, unless ETCDCTL_API=2 is set or exported', () => {
    const text = 'etcdctl cluster-health';
    const f = only(lintText(text), 'lint-etcdctl-v2-command');
    assert.equal(applyEdits(text, f.quickFix!.edits), 'ETCDCTL_API=2 etcdctl cluster-health');
    assert.deepEqual(lintText('ETCDCTL_API=2 etcdctl cluster-health'), []);
    assert.deepEqual(lintText('export ETCDCTL_API=2\netcdctl ls /docker/network/v1.0/network'), []);
    assert.deepEqual(lintText('etcdctl cluster-health', { etcdVersion: '3.0.12' }), [], 'etcdctl 3.0 defaults to v2');
    only(lintText('etcdctl ls /docker'), 'lint-etcdctl-v2-command');
    only(lintText('ETCDCTL_API=2 etcdctl put foo bar'), 'lint-etcdctl-v3-command');
  });

  it('replaces `docker daemon` with dockerd', () => {
    const text = 'docker daemon -H tcp://0.0.0.0:2375';
    const f = only(lintText(text), 'lint-docker-daemon-removed');
    assert.equal(applyEdits(text, f.quickFix!.edits), 'dockerd -H tcp://0.0.0.0:2375');
  });

  it('warns when a container name is run twice without rm in between', () => {
    const text = ['docker run -d --name web nginx', 'docker run -d --name web -p 80:80 nginx', 'docker rm -f web', 'docker run -d --name web -p 80:80 nginx', 'docker run --rm --name tmp busybox true', 'docker run --rm --name tmp busybox true'].join('\n');
    const f = lintText(text).filter((x) => x.ruleId === 'lint-duplicate-container-name');
    assert.deepEqual(f.map((x) => x.line), [2]);
    assert.match(f[0]!.message, /line 1/);
  });

  it('adds --attachable to overlay networks in swarm mode, adds --enable-v2 to etcd for the cluster store', () => {
    const text = 'docker swarm init --advertise-addr 10.99.0.11\ndocker network create -d overlay my-overlay';
    const f = only(lintText(text), 'lint-overlay-not-attachable');
    assert.equal(applyEdits(text, f.quickFix!.edits).split('\n')[1], 'docker network create -d overlay --attachable my-overlay');
    assert.deepEqual(lintText('docker network create -d overlay my-overlay'), [], 'no swarm: the 2017 path');
    const etcd = 'etcd --name docker-node1 --initial-cluster docker-node1=http://10.99.0.11:2380\ndockerd --cluster-store=etcd://10.99.0.11:2379 --cluster-advertise=10.99.0.11:2375';
    const g = only(lintText(etcd), 'lint-etcd-without-enable-v2');
    assert.match(applyEdits(etcd, g.quickFix!.edits), /^etcd --enable-v2=true --name/);
  });

  it('notes options after the image, -it in scripts and stopping firewalld', () => {
    only(lintText('docker run nginx -p 80:80'), 'lint-option-after-image');
    only(lintText('docker exec -it test1 ip a'), 'lint-tty-in-script');
    assert.deepEqual(lintText('docker exec -it test1 ip a', { kind: 'markdown' }), [], 'not in Markdown prose blocks without a fence');
    only(lintText('sudo systemctl stop firewalld'), 'lint-stop-firewalld');
  });

  it('reads Markdown fenced shell blocks (prompts stripped, columns kept) and skips other languages', () => {
    const md = ['# Step', 'docker run -net x', '```bash', '$ docker run -d --name redis -net my-overlay redis', '```', '```python', 'docker run -net x', '```', '```console', '[root@docker-node1 ~]# etcdctl cluster-health', 'member 1 is healthy', '```'].join('\n');
    const findings = lintText(md, { fileName: 'README.md' });
    assert.deepEqual(findings.map((f) => [f.ruleId, f.line]), [['lint-single-dash-long-flag', 4], ['lint-etcdctl-v2-command', 10]]);
    const fixed = applyEdits(md, findings.flatMap((f) => f.quickFix!.edits));
    assert.match(fixed, /\$ docker run -d --name redis --net my-overlay redis/);
    assert.match(fixed, /# ETCDCTL_API=2 etcdctl cluster-health/);
  });

  it('reads Dockerfile RUN lines with continuations', () => {
    const df = ['FROM busybox', 'RUN echo hi && \\', '    docker run -d -name x busybox', 'CMD docker run -net x'].join('\n');
    const findings = lintText(df, { fileName: 'Dockerfile' });
    assert.deepEqual(findings.map((f) => [f.ruleId, f.line, f.column]), [['lint-single-dash-long-flag', 3, 19]]);
  });

  it('handles continuation lines and quotes in shell scripts', () => {
    const sh = ['docker run -d \\', '  --name redis \\', '  -net my-overlay \\', '  redis', 'echo "docker run -net not-a-command"'].join('\n');
    const f = only(lintText(sh), 'lint-single-dash-long-flag');
    assert.deepEqual([f.line, f.column], [3, 3]);
  });

  it('every lint rule points at an existing runtime rule for the error it would cause', () => {
    const text = ['docker run -d --name redis -net x redis', 'etcdctl cluster-health', 'docker daemon', 'docker run -d --net host -p 80:80 nginx'].join('\n');
    for (const f of lintText(text)) {
      assert.ok(f.relatedRuleId !== undefined && ruleById(f.relatedRuleId) !== undefined, `${f.ruleId}: related ${String(f.relatedRuleId)}`);
    }
    for (const [lintId, runtimeId] of Object.entries(lintRelatedRules)) { assert.ok(ruleById(runtimeId), `${lintId} → ${runtimeId}`); }
  });

  it('guesses the file kind from the name', () => {
    assert.equal(lintKindForFile('docs/ch4.md'), 'markdown');
    assert.equal(lintKindForFile('build/flask/Dockerfile'), 'dockerfile');
    assert.equal(lintKindForFile('app.dockerfile'), 'dockerfile');
    assert.equal(lintKindForFile('setup.sh'), 'shell');
  });
});
