import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { lintRelatedRules, lintText } from '../../src/core/diagnostics/commandLinter';
import type { LintEdit } from '../../src/core/diagnostics/commandLinter';
import { fixPlan } from '../../src/core/diagnostics/fixPlan';
import { DiagnosticMatcher } from '../../src/core/diagnostics/matcher';
import type { Finding } from '../../src/core/diagnostics/ruleTypes';
import type { Cmd } from './labHelpers';
import { lab, labUnavailable, nodeIps, nodeNames, repoRoot, ssh } from './labHelpers';

// Live half of the diagnostics: real failures produced on the local lab's nodes (over ssh with the lab key,
// host keys checked), their real output fed to the diagnostics, the finding's fix applied on the node, and
// the guided-lab step run or verified afterwards. Every scenario cleans up in finally; the suite ends with
// `reset --yes` so the lab is fresh again.

const progressDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-live-progress-'));
const env = { ...process.env, DOCKER_NET_LAB_PROGRESS: path.join(progressDir, 'progress.json') };
const [node1Ip, node2Ip] = nodeIps;
const [node1, node2] = nodeNames;

function cli(...args: string[]): Cmd {
  return cliWithInput(undefined, ...args);
}

function cliWithInput(input: string | undefined, ...args: string[]): Cmd {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), ...args],
    { encoding: 'utf8', timeout: 600_000, env, maxBuffer: 64 * 1024 * 1024, ...(input === undefined ? {} : { input }) });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

function must(r: Cmd, what: string): Cmd {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.out.slice(-3000)}\n${r.err.slice(-3000)}`);
  return r;
}

/** Runs the real matcher over a real output, with the node as context. */
function diagnose(text: string, context: Record<string, string>): Finding[] {
  const m = new DiagnosticMatcher({ context });
  m.feed(text);
  m.end();
  return m.findings();
}

function pick(findings: readonly Finding[], ruleId: string, text: string): Finding {
  const f = findings.find((x) => x.ruleId === ruleId);
  assert.ok(f !== undefined, `expected ${ruleId} in ${JSON.stringify(findings.map((x) => x.ruleId))} for:\n${text}`);
  return f;
}

const stepIds = new Set<string>(((): string[] => {
  try {
    return (JSON.parse(cli('steps', '--json').out) as { steps: { id: string }[] }).steps.map((s) => s.id);
  } catch {
    return [];
  }
})());

/** Applies a finding's fix the machine way: its commands on the node, or its step through the CLI. */
function applyFix(f: Finding, ip: string): string {
  const plan = fixPlan(f, stepIds);
  if (plan.kind === 'commands') {
    for (const c of plan.commands) { must(ssh(ip, c), `fix command on ${ip}: ${c}`); }
    return plan.commands.join(' && ');
  }
  if (plan.kind === 'step') {
    must(cli('run', plan.stepId, '--yes'), `fix step ${plan.stepId}`);
    return `docker-net-lab run ${plan.stepId}`;
  }
  assert.fail(`finding ${f.ruleId} has no machine-applicable fix: ${plan.reason}`);
}

/** Applies one-line lint edits (1-based columns, end exclusive) to a command. */
function applyEdits(line: string, edits: readonly LintEdit[]): string {
  let out = line;
  for (const e of [...edits].sort((a, b) => b.column - a.column)) {
    assert.equal(e.line, 1);
    out = out.slice(0, e.column - 1) + e.newText + out.slice(e.endColumn - 1);
  }
  return out;
}

/** Pid of the process listening on a TCP port inside a node (its own pid namespace view). */
const listenerPid = "ss -ltnpH 'sport = :2379' | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2";

const timings: string[] = [];
function report(name: string, f: Finding, fix: string, t0: number): void {
  timings.push(`${name}: ${f.ruleId}; fix: ${fix}; ${Date.now() - t0} ms`);
}

const skip = ((): string | undefined => {
  const why = labUnavailable();
  if (why !== undefined) { return why; }
  const st = lab('status');
  if (st.code !== 0) { return `the local lab is not up ("docker-net-lab lab status" exit ${st.code})`; }
  if (!/Docker 20\.10/.test(st.out)) { return 'these scenarios need the legacy profile (Docker 20.10 with the cluster store)'; }
  return undefined;
})();

function guard(t: TestContext): boolean {
  if (skip !== undefined) { t.skip(skip); return false; }
  return true;
}

describe('live diagnostics on the local lab', { concurrency: 1 }, () => {
  before(() => {
    if (skip !== undefined) { return; }
    must(cli('reset', '--yes'), 'reset before');
    must(cli('run', 'ch1-run-web', '--yes'), 'ch1-run-web');
  });

  after(() => {
    if (skip !== undefined) { return; }
    try {
      must(cli('reset', '--yes'), 'reset after');
    } finally {
      fs.rmSync(progressDir, { recursive: true, force: true });
      process.stdout.write(`# live diagnostics timings:\n${timings.map((l) => `#   ${l}`).join('\n')}\n`);
    }
  });

  it('1: port already allocated (two containers -p 8080:80)', (t) => {
    if (!guard(t)) { return; }
    const t0 = Date.now();
    try {
      must(ssh(node1Ip, 'docker rm -f diag-a diag-b >/dev/null 2>&1; docker run -d --name diag-a -p 8080:80 nginx'), 'first container');
      const second = ssh(node1Ip, 'docker run -d --name diag-b -p 8080:80 nginx');
      assert.notEqual(second.code, 0, 'the second -p 8080:80 must fail');
      const f = pick(diagnose(second.err, { node: node1 }), 'port-already-allocated', second.err);
      assert.equal(f.facts['port'], '8080');
      assert.equal(f.facts['container'], 'diag-b');
      assert.equal(f.facts['node'], node1);
      assert.match(f.fixCommands?.join('\n') ?? '', /publish=8080\b/);
      const fix = applyFix(f, node1Ip);
      assert.equal(ssh(node1Ip, 'docker ps -q --filter publish=8080').out.trim(), '', 'port 8080 is free after the fix');
      must(ssh(node1Ip, 'docker rm -f diag-b && docker run -d --name diag-b -p 8080:80 nginx'), 'the second container now starts');
      must(cli('run', f.step, '--yes'), `run ${f.step}`);
      report('port already allocated', f, fix, t0);
    } finally {
      ssh(node1Ip, 'docker rm -f diag-a diag-b');
    }
  });

  it('2: container name conflict (docker run --name web twice)', (t) => {
    if (!guard(t)) { return; }
    const t0 = Date.now();
    try {
      must(ssh(node1Ip, 'docker rm -f web >/dev/null 2>&1; docker run -d --name web nginx'), 'first web');
      const second = ssh(node1Ip, 'docker run -d --name web nginx');
      assert.notEqual(second.code, 0, 'the second --name web must fail');
      const f = pick(diagnose(second.err, { node: node1 }), 'container-name-conflict', second.err);
      assert.equal(f.facts['container'], 'web');
      assert.deepEqual(f.fixCommands, ['docker rm -f web']);
      // applied through the CLI: the real stderr piped into `diagnose - --apply`, which then runs the step
      const applied = must(cliWithInput(second.err, 'diagnose', '-', '--node', node1, '--apply', '--yes'), 'diagnose --apply');
      assert.match(applied.out, /\[docker-node1\]\$ docker rm -f web/);
      assert.match(applied.out, /step ch1-publish-port: passed/);
      must(cli('verify', f.step), `verify ${f.step}`);
      report('container name conflict', f, 'docker-net-lab diagnose - --apply (docker rm -f web, run ch1-publish-port)', t0);
    } finally {
      ssh(node1Ip, 'docker rm -f web');
    }
  });

  it('3: nginx on the host network while port 80 is taken', (t) => {
    if (!guard(t)) { return; }
    const t0 = Date.now();
    try {
      must(ssh(node1Ip, 'docker rm -f web nginx-host1 nginx-host2 diag-p80 >/dev/null 2>&1; docker run -d --name diag-p80 -p 80:80 nginx'), 'port 80 holder');
      must(ssh(node1Ip, 'docker run -d --name nginx-host1 --network host nginx'), 'host-network nginx');
      ssh(node1Ip, 'timeout 30 docker wait nginx-host1');
      const logs = ssh(node1Ip, 'docker logs nginx-host1 2>&1');
      const f = pick(diagnose(logs.out, { node: node1, container: 'nginx-host1' }), 'nginx-host-network-bind-failed', logs.out);
      assert.equal(f.facts['port'], '80');
      assert.match(f.fixCommands?.join('\n') ?? '', /publish=80\b[\s\S]*docker start nginx-host1/);
      const fix = applyFix(f, node1Ip);
      must(ssh(node1Ip, "for i in $(seq 40); do [ \"$(curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1/)\" = 200 ] && exit 0; sleep 0.25; done; exit 1"), 'the host-network nginx answers on port 80 after the fix');
      assert.equal(ssh(node1Ip, "docker inspect -f '{{.State.Running}}' nginx-host1").out.trim(), 'true');
      must(cli('run', f.step, '--yes'), `run ${f.step}`);
      report('nginx host network bind', f, fix, t0);
    } finally {
      ssh(node1Ip, 'docker rm -f diag-p80 nginx-host1 nginx-host2');
    }
  });

  it('4: curl refused without -p', (t) => {
    if (!guard(t)) { return; }
    const t0 = Date.now();
    try {
      must(ssh(node1Ip, 'docker rm -f web nginx-host1 nginx-host2 >/dev/null 2>&1; docker run -d --name web nginx'), 'web without -p');
      const curl = ssh(node1Ip, 'curl -sS -m 5 http://127.0.0.1/');
      assert.equal(curl.code, 7, `curl must be refused: ${curl.out}${curl.err}`);
      const f = pick(diagnose(curl.err, { node: node1 }), 'curl-connection-refused-no-publish', curl.err);
      assert.equal(f.facts['port'], '80');
      assert.match(f.fix, /docker run -d --name web -p 80:80 nginx/);
      assert.equal(f.fixAction, 'ch1-publish-port');
      const fix = applyFix(f, node1Ip);
      must(ssh(node1Ip, 'curl -sS -m 5 -o /dev/null http://127.0.0.1/'), 'curl after the fix');
      must(cli('verify', 'ch1-publish-port'), 'verify ch1-publish-port');
      report('curl refused without -p', f, fix, t0);
    } finally {
      ssh(node1Ip, 'docker rm -f web');
    }
  });

  it('5: an etcd member restarted without --enable-v2 (node2)', (t) => {
    if (!guard(t)) { return; }
    const t0 = Date.now();
    const started: string[] = [];
    try {
      const restart = must(ssh(node2Ip, `pid=$(${listenerPid}); [ -n "$pid" ] || exit 3; exe=$(readlink /proc/$pid/exe); `
        + 'args=$(tr \'\\0\' \'\\n\' < /proc/$pid/cmdline | tail -n +2 | grep -v \'^--enable-v2\' | tr \'\\n\' \' \'); kill $pid; '
        + 'for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done; setsid nohup $exe $args >/dev/null 2>&1 < /dev/null & echo $!'), 'restart etcd without --enable-v2');
      started.push(restart.out.trim());
      const v2 = ssh(node2Ip, 'for i in $(seq 50); do curl -s -m 1 http://127.0.0.1:2379/health | grep -q health && break; sleep 0.2; done; curl -sS -m 5 http://127.0.0.1:2379/v2/keys/');
      const f = pick(diagnose(v2.out + v2.err, { node: node2 }), 'etcd-v2-api-404', v2.out + v2.err);
      assert.equal(f.facts['node'], node2);
      assert.equal(f.fixAction, 'etcd.enableV2');
      const fix = applyFix(f, node2Ip);
      started.push(ssh(node2Ip, listenerPid).out.trim());
      must(ssh(node2Ip, 'curl -fsS -m 5 http://127.0.0.1:2379/v2/keys/'), 'v2 API back on node2');
      must(ssh(node2Ip, "tr '\\0' ' ' < /proc/$(" + listenerPid + ')/cmdline | grep -q -- --enable-v2'), 'etcd runs with --enable-v2');
      must(cli('verify', f.step), `verify ${f.step}`);
      report('etcd without --enable-v2', f, `fixAction etcd.enableV2: ${fix.slice(0, 60)}…`, t0);
    } finally {
      for (const pid of started.filter((p) => /^\d+$/.test(p))) {
        ssh(node2Ip, `kill ${pid} 2>/dev/null; for i in $(seq 50); do kill -0 ${pid} 2>/dev/null || exit 0; sleep 0.2; done`);
      }
      must(lab('up'), 'lab up restores the lab\'s etcd');
    }
  });

  it('6: etcd peer traffic blocked by iptables inside node2', (t) => {
    if (!guard(t)) { return; }
    const t0 = Date.now();
    try {
      must(ssh(node2Ip, 'iptables -I INPUT -p tcp --dport 2380 -j DROP'), 'block 2380 on node2');
      const health = ssh(node1Ip, 'sleep 3; ETCDCTL_API=2 etcdctl cluster-health');
      const textIds = diagnose(health.out + health.err, { node: node1 }).map((x) => x.ruleId);
      const state = cli('diagnose', '--state', '--json');
      must(state, 'diagnose --state');
      const findings = (JSON.parse(state.out) as { findings: Finding[] }).findings;
      const f = findings.find((x) => x.ruleId === 'state-firewall-blocks-lab-ports' && x.facts['node'] === node2);
      assert.ok(f !== undefined, `state check on node2: ${state.out}`);
      assert.match(f.facts['ports'] ?? '', /2380\/tcp/);
      assert.match(f.fixCommands?.join('\n') ?? '', /-D|2380/);
      // applied through the CLI: the state check again, with --apply (fix commands on node2, then its step)
      const applied = must(cli('diagnose', '--state', '--apply', '--yes'), 'diagnose --state --apply');
      assert.match(applied.out, /\[docker-node2\]\$ iptables -S INPUT/);
      const fix = (f.fixCommands ?? []).join(' && ');
      assert.notEqual(ssh(node2Ip, 'iptables -C INPUT -p tcp --dport 2380 -j DROP').code, 0, 'the DROP rule is gone');
      must(ssh(node1Ip, 'for i in $(seq 30); do ETCDCTL_API=2 etcdctl cluster-health | grep -q "cluster is healthy" && exit 0; sleep 1; done; exit 1'), 'etcd healthy again');
      must(cli('verify', f.step), `verify ${f.step}`);
      report(`iptables DROP 2380 (cluster-health text rules: ${textIds.join(',') || 'none'})`, f, fix, t0);
    } finally {
      ssh(node2Ip, 'while iptables -D INPUT -p tcp --dport 2380 -j DROP 2>/dev/null; do :; done');
    }
  });

  describe('on the overlay (cluster-store path, steps up to ch4-overlay-containers)', { concurrency: 1 }, () => {
    before(() => {
      if (skip !== undefined) { return; }
      for (const step of ['ch4-hostnames', 'ch4-etcd-cluster', 'ch4-firewall', 'ch4-dockerd-cluster-store', 'ch4-kernel-upgrade', 'ch4-create-overlay', 'ch4-overlay-containers']) {
        must(cli('run', step, '--yes', '--path', 'cluster-store'), `run ${step}`);
      }
    });

    it('7: a second test1 on node2 on my-overlay', (t) => {
      if (!guard(t)) { return; }
      const t0 = Date.now();
      try {
        const dup = ssh(node2Ip, 'docker run -d --name test1 --net my-overlay busybox sh -c "while true; do sleep 3600; done"');
        assert.notEqual(dup.code, 0, `the duplicate must be refused: ${dup.out}`);
        const f = pick(diagnose(dup.err, { node: node2 }), 'endpoint-already-exists-in-network', dup.err);
        assert.equal(f.facts['container'], 'test1');
        assert.equal(f.facts['network'], 'my-overlay');
        assert.equal(f.facts['node'], node2);
        assert.deepEqual(f.fixCommands, ['docker rm -f test1']);
        const fix = applyFix(f, node2Ip);
        must(cli('run', f.step, '--yes'), `run ${f.step}`);
        report('duplicate name on the overlay', f, `${fix} (on ${node2})`, t0);
      } finally {
        ssh(node2Ip, 'docker rm -f test1');
      }
    });

    it('8: the -net typo (docker error and linter quick fix)', (t) => {
      if (!guard(t)) { return; }
      const t0 = Date.now();
      const typo = 'docker run -d --name redis -net my-overlay redis';
      try {
        ssh(node1Ip, 'docker rm -f redis');
        const r = ssh(node1Ip, typo);
        assert.notEqual(r.code, 0, 'docker refuses -net');
        const f = pick(diagnose(r.err, { node: node1 }), 'unknown-shorthand-flag-net', r.err);
        assert.equal(f.facts['flag'], 'net');
        assert.match(f.fix, /--net/);
        const lint = lintText(typo).find((x) => x.ruleId === 'lint-single-dash-long-flag');
        assert.ok(lint?.quickFix !== undefined, 'the linter offers a quick fix');
        assert.equal(lintRelatedRules[lint.ruleId], f.ruleId);
        const fixed = applyEdits(typo, lint.quickFix.edits);
        assert.equal(fixed, 'docker run -d --name redis --net my-overlay redis');
        must(ssh(node1Ip, fixed), 'the fixed command');
        must(cli('verify', 'ch5-redis-node1'), 'verify ch5-redis-node1');
        report('-net typo', f, `linter quick fix, ran: ${fixed}`, t0);
      } finally {
        ssh(node1Ip, 'docker rm -f redis');
      }
    });
  });
});
