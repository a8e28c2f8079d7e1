import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LabError } from '../../src/core/errors';
import { parseNodesFile, formatNodesFile } from '../../src/core/nodes/nodesFile';
import { buildLabNodesFile, parseLabArgs } from '../../lab/labConfig';
import { labNodes, labPaths, nodePaths } from '../../lab/labLayout';
import {
  etcdPlan, isLabProfile, modeForProfile, nodeKind, planProfile, profileNeedsModernRootfs, profileSummary, readLabProfile,
  withProfileFacts, writeLabProfile,
} from '../../lab/labProfiles';
import { modernAnchorScript, nodeVersionFacts } from '../../lab/modernNode';
import { modernAptSources, modernRootfsFiles, parseDpkgVersions } from '../../lab/modernRootfs';

const [node1, node2] = labNodes;
if (node1 === undefined || node2 === undefined) { throw new Error('two lab nodes expected'); }

function tmpPaths(): ReturnType<typeof labPaths> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-profiles-'));
  return labPaths({ DOCKER_NET_LAB_HOME: path.join(dir, 'home'), DOCKER_NET_LAB_CACHE: path.join(dir, 'cache') });
}

describe('lab profiles', () => {
  it('parseLabArgs takes --profile and refuses unknown ones; no profile key when none is given', () => {
    assert.deepEqual(parseLabArgs(['up', '--profile', 'modern']), { action: 'up', mode: 'cluster', modeGiven: false, profile: 'modern' });
    assert.deepEqual(parseLabArgs(['up', '--mode', 'swarm', '--profile', 'mixed']), { action: 'up', mode: 'swarm', modeGiven: true, profile: 'mixed' });
    assert.deepEqual(parseLabArgs(['up']), { action: 'up', mode: 'cluster', modeGiven: false });
    assert.throws(() => parseLabArgs(['up', '--profile', 'future']), (e: unknown) => e instanceof LabError && e.code === 'InvalidInput' && /legacy, modern, mixed, vm or vm-legacy/.test(e.message));
    assert.throws(() => parseLabArgs(['down', '--profile', 'modern']), LabError);
  });

  it('node kinds: mixed = node1 legacy, node2 modern', () => {
    assert.deepEqual(labNodes.map((n) => nodeKind('legacy', n)), ['legacy', 'legacy']);
    assert.deepEqual(labNodes.map((n) => nodeKind('modern', n)), ['modern', 'modern']);
    assert.deepEqual(labNodes.map((n) => nodeKind('mixed', n)), ['legacy', 'modern']);
    assert.equal(profileNeedsModernRootfs('legacy'), false);
    assert.equal(profileNeedsModernRootfs('mixed'), true);
    assert.equal(isLabProfile('modern'), true);
    assert.equal(isLabProfile('MODERN'), false);
  });

  it('cluster mode: default becomes swarm with a Docker 26 node, an explicit --mode cluster is refused', () => {
    assert.equal(modeForProfile('legacy', 'cluster', false), 'cluster');
    assert.equal(modeForProfile('modern', 'cluster', false), 'swarm');
    assert.equal(modeForProfile('mixed', 'plain', true), 'plain');
    assert.throws(() => modeForProfile('mixed', 'cluster', true), (e: unknown) => e instanceof LabError && e.code === 'InvalidInput' && /--cluster-store/.test(e.message));
  });

  it('etcd: 3.4 from the host in legacy; 3.5 on both members otherwise, own data dir, trixie binary on the legacy node of mixed', () => {
    const paths = tmpPaths();
    const np1 = nodePaths(paths, node1);
    const np2 = nodePaths(paths, node2);
    const legacy = etcdPlan('legacy', node1, np1, paths);
    assert.equal(legacy.series, '3.4');
    assert.equal(legacy.program, 'etcd');
    assert.ok(legacy.args.includes(np1.etcdData));
    const mixed1 = etcdPlan('mixed', node1, np1, paths);
    const mixed2 = etcdPlan('mixed', node2, np2, paths);
    assert.equal(mixed1.series, '3.5');
    assert.equal(mixed1.program, path.join(modernRootfsFiles(paths).rootfs, 'usr', 'bin', 'etcd'));
    assert.equal(mixed2.program, '/usr/bin/etcd');
    assert.equal(mixed1.dataDir, path.join(np1.dir, 'etcd-3.5'));
    assert.ok(mixed1.args.includes(mixed1.dataDir) && !mixed1.args.includes(np1.etcdData));
    assert.ok(mixed1.args.includes('--enable-v2'));
    assert.deepEqual(etcdPlan('modern', node1, np1, paths).args, mixed1.args, 'same member in modern and mixed');
  });

  it('planProfile: requested, else the running lab\'s, else legacy; a different running profile is a switch', () => {
    const paths = tmpPaths();
    assert.equal(readLabProfile(paths), 'legacy');
    assert.deepEqual(planProfile(paths, false, undefined, 'cluster', false), { profile: 'legacy', mode: 'cluster', switching: false });
    writeLabProfile(paths, 'modern');
    assert.equal(readLabProfile(paths), 'modern');
    assert.deepEqual(planProfile(paths, true, undefined, 'cluster', false), { profile: 'modern', mode: 'swarm', switching: false });
    assert.deepEqual(planProfile(paths, false, undefined, 'cluster', false), { profile: 'legacy', mode: 'cluster', switching: false });
    assert.deepEqual(planProfile(paths, true, 'legacy', 'cluster', false), { profile: 'legacy', mode: 'cluster', switching: true });
    fs.writeFileSync(path.join(paths.home, 'lab-profile.json'), '{"profile":"bogus"}');
    assert.equal(readLabProfile(paths), 'legacy');
  });

  it('mixed up output explains the etcd choice', () => {
    const text = profileSummary('mixed').join('\n');
    assert.match(text, /incompatible with current running cluster/);
    assert.match(text, /docker-node1 10\.99\.0\.11: legacy .*etcd 3\.5/);
    assert.match(text, /docker-node2 10\.99\.0\.12: modern/);
    assert.doesNotMatch(profileSummary('legacy').join('\n'), /modern/);
  });

  it('nodes file: per-node facts validate against the schema and the old fields stay', () => {
    const paths = tmpPaths();
    const base = buildLabNodesFile(paths, [`SHA256:${'A'.repeat(43)}`, `SHA256:${'B'.repeat(43)}`], { mode: 'swarm', dockerVersion: '20.10.24+dfsg1', etcdVersion: '3.5.16' });
    const facts = nodeVersionFacts('mixed', [
      { name: node1.name, dockerd: { version: '20.10.24+dfsg1' }, etcd: { version: '3.5.16' } },
      { name: node2.name, dockerd: { version: '26.1.5+dfsg1' }, etcd: {} },
    ]);
    const file = withProfileFacts(base, 'mixed', facts);
    const back = parseNodesFile(formatNodesFile(file), 'nodes.json');
    assert.equal(back.lab?.['mode'], 'swarm');
    assert.equal(back.lab?.['nodeProfile'], 'mixed');
    assert.deepEqual(back.nodes.map((n) => n.facts?.kind), ['legacy', 'modern']);
    assert.equal(back.nodes[1]?.facts?.dockerVersion, '26.1.5+dfsg1');
    assert.equal(back.nodes[1]?.facts?.etcdVersion, undefined);
    assert.equal(back.nodes[0]?.hostKeyFingerprints?.[0], `SHA256:${'A'.repeat(43)}`);
    // a nodes file without facts (older labs, user files) still parses
    assert.equal(parseNodesFile(formatNodesFile(base), 'old.json').nodes[0]?.facts, undefined);
    assert.throws(() => parseNodesFile(JSON.stringify({ ...base, nodes: [{ ...base.nodes[0], facts: { kind: 'ancient' } }] }), 'bad.json'), LabError);
  });

  it('rootfs helpers: apt sources on the given mirror, dpkg versions parsed', () => {
    const src = modernAptSources('http://mirror.example/debian');
    assert.match(src, /^URIs: http:\/\/mirror\.example\/debian$/m);
    assert.match(src, /^Suites: trixie trixie-updates$/m);
    assert.deepEqual(parseDpkgVersions('docker.io 26.1.5+dfsg1-9+deb13u1+b1\netcd-server 3.5.16-4\n\n'), {
      'docker.io': '26.1.5+dfsg1-9+deb13u1+b1', 'etcd-server': '3.5.16-4',
    });
  });

  it('modern anchor: overlay root, non-overlay /var/lib/docker, pivot_root, old root detached', () => {
    const s = modernAnchorScript();
    assert.match(s, /mount -t overlay overlay -o "lowerdir=\$lower,upperdir=\$m\/upper,workdir=\$m\/work" "\$r"/);
    assert.match(s, /mount --bind "\$m\/docker" "\$r\/var\/lib\/docker"/);
    assert.ok(s.indexOf('pivot_root . .oldroot') < s.indexOf('umount -l /.oldroot'));
    assert.ok(s.indexOf('umount -l /.oldroot') < s.indexOf('echo $$ > "$dir/run/anchor.pid"'), 'pid written only once the node root is complete');
  });
});
