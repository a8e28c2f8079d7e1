import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DiagnosticMatcher, diagnoseText } from '../../src/core/diagnostics/matcher';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'diagnostics');
const read = (f: string): string => fs.readFileSync(path.join(fixtures, f), 'utf8');

describe('diagnostics matcher', () => {
  it('finds nothing in 1,000+ lines of real benign lab output (docker, etcd, curl, ping, dockerd/etcd logs)', () => {
    const text = read('benign-lab-output.txt');
    assert.ok(text.split('\n').length >= 1000, 'fixture too small');
    const findings = diagnoseText(text);
    assert.deepEqual(findings.map((f) => `${f.line}: ${f.ruleId}: ${f.text}`), []);
  });

  it('finds nothing in near misses (0% packet loss, healthy etcd, election at term 1, overlay listings)', () => {
    const findings = diagnoseText(read('benign-near-misses.txt'));
    assert.deepEqual(findings.map((f) => `${f.line}: ${f.ruleId}: ${f.text}`), []);
  });

  it('an error line inside benign output is found at its line number', () => {
    const benign = read('benign-lab-output.txt').split('\n').slice(0, 300);
    benign.splice(137, 0, 'docker: Error response from daemon: network lab-net not found.');
    const findings = diagnoseText(benign.join('\n'));
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.ruleId, 'network-not-found');
    assert.equal(findings[0]?.line, 138);
    assert.equal(findings[0]?.facts['network'], 'lab-net');
    assert.match(findings[0]?.fix ?? '', /docker network ls/);
  });

  it('folds repeats of the same message into one finding with count, first and last line', () => {
    const line = 'Nov 25 17:52:53 docker-node1 dockerd[7229]: level=error msg="Failed to deserialize netlink ndmsg: invalid argument"';
    const text = ['ok', line, 'ok', line, line, 'ok', line].join('\n');
    const findings = diagnoseText(text);
    assert.equal(findings.length, 1);
    const f = findings[0]!;
    assert.equal(f.count, 4);
    assert.equal(f.line, 2);
    assert.equal(f.lastLine, 7);
    assert.equal(f.facts['node'], 'docker-node1', 'the journald host name becomes the node fact');
  });

  it('keeps different facts apart (two ports are two findings)', () => {
    const text = [
      'docker: Error response from daemon: driver failed programming external connectivity on endpoint web2 (4f1c): Bind for 0.0.0.0:80 failed: port is already allocated.',
      'docker: Error response from daemon: driver failed programming external connectivity on endpoint web3 (4f1d): Bind for 0.0.0.0:5000 failed: port is already allocated.',
    ].join('\n');
    const findings = diagnoseText(text);
    assert.deepEqual(findings.map((f) => f.facts['port']), ['80', '5000']);
    assert.match(findings[1]?.fix ?? '', /docker ps --filter publish=5000/);
  });

  it('extends a finding over the continuation lines of a multi-line message and takes their facts', () => {
    const text = ['$ docker run -d --name redis -net my-overlay redis', "unknown shorthand flag: 'n' in -net", "See 'docker run --help'.", '$ echo next'].join('\n');
    const [f] = diagnoseText(text);
    assert.equal(f?.ruleId, 'unknown-shorthand-flag-net');
    assert.equal(f.line, 2);
    assert.equal(f.endLine, 3);
    assert.equal(f.facts['command'], 'docker run');
    assert.match(f.fix, /--net/);
  });

  it('continuation works across chunk borders', () => {
    const m = new DiagnosticMatcher();
    m.feed('x\ncluster may be unhealthy: failed to list members\n');
    m.feed('Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127.0.0.1:2379: connect: connection refused\n');
    m.feed('; error #1: dial tcp 127.0.0.1:4001: connect: connection refused\n\nunrelated\n');
    m.end();
    const f = m.findings().find((x) => x.ruleId === 'etcdctl-v2-failed-to-list-members');
    assert.equal(f?.line, 2);
    assert.equal(f.endLine, 4);
  });

  it('gives the same findings whatever the chunking (byte by byte, odd sizes, CRLF)', () => {
    const text = `${read('benign-near-misses.txt')}\r\nError response from daemon: network with name my-overlay already exists\r\nunknown flag: --cluster-store\r\nSee 'dockerd --help'.\r\n${read('benign-near-misses.txt')}`;
    const whole = diagnoseText(text);
    assert.equal(whole.length, 2);
    for (const size of [1, 7, 64, 1000]) {
      const m = new DiagnosticMatcher();
      for (let i = 0; i < text.length; i += size) { m.feed(text.slice(i, i + size)); }
      m.end();
      assert.deepEqual(m.findings(), whole, `chunk size ${size}`);
    }
    assert.equal(whole[1]?.facts['command'], 'dockerd');
    assert.equal(whole[1]?.endLine, (whole[1]?.line ?? 0) + 1);
  });

  it('feed returns only the findings first seen in that chunk; an unterminated last line is handled by end()', () => {
    const m = new DiagnosticMatcher();
    assert.deepEqual(m.feed('all good\n'), []);
    const first = m.feed('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n');
    assert.equal(first.length, 1);
    assert.deepEqual(m.feed('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\nhostnamectl: command not found'), []);
    const last = m.end();
    assert.deepEqual(last.map((f) => f.ruleId), ['hostnamectl-not-found']);
    assert.equal(m.findings()[0]?.count, 2);
    assert.equal(m.lineCount, 4);
    assert.throws(() => m.feed('x'));
  });

  it('reports a generic rule only when no specific rule explains the line', () => {
    const specific = diagnoseText('level=error msg="Registering as \\"10.99.0.12:2375\\" in discovery failed: client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 10.99.0.11:2379: connect: connection refused"');
    assert.deepEqual(specific.map((f) => f.ruleId), ['discovery-etcd-unreachable']);
    const generic = diagnoseText('Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 10.99.0.11:2379: connect: connection refused');
    assert.deepEqual(generic.map((f) => f.ruleId).sort(), ['etcd-client-cluster-unavailable', 'etcd-dial-connection-refused']);
  });

  it('recognises the messages measured on this kind of machine (Docker 26, etcd 3.5)', () => {
    const text = [
      'Status: unknown flag: --cluster-store',
      "See 'dockerd --help'., Code: 125",
      "unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives don't match any configuration option: cluster-store, cluster-advertise",
      'Error: unknown command "cluster-health" for "etcdctl"',
      'Error:  unexpected status code 404',
      '404 page not found',
      '{"level":"fatal","msg":"discovery failed","error":"member 4a2b has a higher version 3.5.16 and is incompatible with current running cluster version 3.4"}',
      'Error response from daemon: --cluster-store and --cluster-advertise daemon configurations are incompatible with swarm mode',
      'nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)',
      'Error response from daemon: endpoint with name test1 already exists in network my-overlay',
      'Error: No such network: my-overlay',
    ].join('\n');
    const ids = diagnoseText(text).map((f) => f.ruleId);
    for (const id of ['cluster-store-unknown-flag-24', 'daemon-json-cluster-store-unknown-directive', 'etcdctl-v3-unknown-command-cluster-health', 'etcd-v2-api-404',
      'etcd-incompatible-cluster-version', 'cluster-store-incompatible-with-swarm', 'nginx-host-network-bind-failed', 'endpoint-already-exists-in-network', 'no-such-network']) {
      assert.ok(ids.includes(id), `${id} missing from ${ids.join(', ')}`);
    }
  });

  it('keeps up with a big log: 20 MB in well under the time of a naive scan', () => {
    const benign = read('benign-lab-output.txt');
    const error = 'dockerd[1]: level=error msg="Failed to deserialize netlink ndmsg: invalid argument"\n';
    let text = '';
    while (text.length < 20_000_000) { text += benign + error; }
    const t0 = process.hrtime.bigint();
    const m = new DiagnosticMatcher();
    for (let i = 0; i < text.length; i += 1 << 20) { m.feed(text.slice(i, i + (1 << 20))); }
    m.end();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const f = m.findings();
    assert.equal(f.length, 1);
    assert.ok((f[0]?.count ?? 0) > 100);
    assert.ok(seconds < 2, `20 MB took ${seconds.toFixed(2)} s`);
  });
});
