import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { allSteps, stepContextKey } from '../../src/core/lab/labDefinition';
import { LabDefinitionError, defaultLabDir, loadLab } from '../../src/core/lab/loadLab';

// The canonical step ids shared with the walkthrough and the VS Code side (never renamed).
const canonicalIds = [
  'ch1-run-web', 'ch1-curl-container-ip', 'ch1-curl-host-fails', 'ch1-publish-port',
  'ch2-none-network', 'ch2-host-network', 'ch2-host-port-conflict',
  'ch3-build-app', 'ch3-run-redis', 'ch3-run-flask-link', 'ch3-curl-host-fails', 'ch3-publish-5000',
  'ch4-hostnames', 'ch4-etcd-cluster', 'ch4-firewall', 'ch4-dockerd-cluster-store', 'ch4-kernel-upgrade',
  'ch4-create-overlay', 'ch4-swarm-init', 'ch4-overlay-containers', 'ch4-duplicate-name',
  'ch5-redis-node1', 'ch5-flask-node2', 'ch5-curl-host-fails', 'ch5-publish-5000', 'ch5-gwbridge',
];

const labDir = defaultLabDir('docker-networking', __dirname);
const schemaFile = path.join(labDir, '..', 'schema', 'lab.schema.json');

function tempLab(chapter: unknown, lab?: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-def-'));
  const d = path.join(dir, 'demo-lab');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'lab.json'), JSON.stringify({
    kind: 'lab', schemaVersion: 1, id: 'demo-lab', title: { en: 'Demo', 'zh-cn': '演示' },
    images: { busybox: 'busybox' }, clusterStoreMaxDockerMajor: 22, chapters: ['c1.json'], ...lab,
  }));
  fs.writeFileSync(path.join(d, 'c1.json'), JSON.stringify(chapter));
  return d;
}

function goodStep(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 's1', title: { en: 'One', 'zh-cn': '一' }, nodes: 'node1', run: [{ run: 'echo hi' }], verify: [{ kind: 'command', run: 'true' }], ...over };
}

function problemsOf(dir: string): { file: string; pointer: string; message: string }[] {
  try {
    loadLab(dir, { schemaFile });
  } catch (e) {
    assert.ok(e instanceof LabDefinitionError, `expected LabDefinitionError, got ${String(e)}`);
    assert.equal(e.code, 'InvalidLabDefinition');
    return [...e.problems];
  }
  assert.fail('the lab loaded although it is invalid');
}

describe('lab definition: the shipped lab', () => {
  const lab = loadLab(labDir);
  const ids = allSteps(lab).map((s) => s.step.id);

  it('has every canonical step id, each once', () => {
    for (const id of canonicalIds) { assert.ok(ids.includes(id), `missing step ${id}`); }
    assert.equal(new Set(ids).size, ids.length);
  });
  it('has five chapters named after their files, in the tutorial order', () => {
    assert.deepEqual(lab.chapters.map((c) => c.id), ['ch1-port-mapping', 'ch2-none-host', 'ch3-flask-redis', 'ch4-overlay', 'ch5-multi-host']);
  });
  it('marks the tutorial\'s expected failures, each with an explanation in both languages', () => {
    const failing = allSteps(lab).filter((s) => s.step.expectFailure !== undefined).map((s) => s.step.id);
    assert.deepEqual(failing, ['ch1-curl-host-fails', 'ch2-host-port-conflict', 'ch3-curl-host-fails', 'ch4-duplicate-name', 'ch5-curl-host-fails']);
    for (const s of allSteps(lab)) {
      const ef = s.step.expectFailure;
      if (ef !== undefined) { assert.ok(ef.explanation.en.length > 20 && ef.explanation['zh-cn'].length > 5, s.step.id); }
    }
  });
  it('offers both overlay paths: etcd steps only on cluster-store, swarm init only on swarm', () => {
    const when = (id: string): string | undefined => allSteps(lab).find((s) => s.step.id === id)?.step.when?.overlayPath;
    assert.equal(when('ch4-etcd-cluster'), 'cluster-store');
    assert.equal(when('ch4-dockerd-cluster-store'), 'cluster-store');
    assert.equal(when('ch4-create-overlay'), 'cluster-store');
    assert.equal(when('ch4-swarm-init'), 'swarm');
    assert.equal(when('ch4-overlay-containers'), undefined);
  });
  it('fills schema defaults (empty lists, destructive false)', () => {
    const s = allSteps(lab).find((x) => x.step.id === 'ch1-curl-container-ip')?.step;
    assert.ok(s !== undefined);
    assert.deepEqual(s.probe, []);
    assert.deepEqual(s.cleanup, []);
    assert.equal(s.destructive, false);
  });
  it('derives the VS Code context key', () => {
    assert.equal(stepContextKey('ch1-run-web'), 'dockerNetLab.step.ch1_run_web');
  });
});

describe('lab definition: errors name the file and the field', () => {
  it('a wrong type deep inside a step', () => {
    const d = tempLab({ kind: 'chapter', id: 'c1', title: { en: 'C', 'zh-cn': 'C' }, nodes: 'node1', steps: [goodStep({ title: { en: 5, 'zh-cn': 'x' } })] });
    const p = problemsOf(d);
    assert.ok(p.some((x) => x.file === 'demo-lab/c1.json' && x.pointer === '/steps/0/title/en' && /string/.test(x.message)), JSON.stringify(p));
  });
  it('an unknown field and a bad enum value', () => {
    const d = tempLab({ kind: 'chapter', id: 'c1', title: { en: 'C', 'zh-cn': 'C' }, nodes: 'node3', steps: [goodStep({ colour: 'red' })] });
    const p = problemsOf(d);
    assert.ok(p.some((x) => x.pointer === '/nodes' && /node1/.test(x.message)), JSON.stringify(p));
    assert.ok(p.some((x) => x.pointer === '/steps/0' && /colour/.test(x.message)), JSON.stringify(p));
  });
  it('a bad field in lab.json', () => {
    const d = tempLab({ kind: 'chapter', id: 'c1', title: { en: 'C', 'zh-cn': 'C' }, nodes: 'node1', steps: [goodStep()] }, { clusterStoreMaxDockerMajor: 'x' });
    const p = problemsOf(d);
    assert.deepEqual(p.map((x) => [x.file, x.pointer]), [['demo-lab/lab.json', '/clusterStoreMaxDockerMajor']]);
  });
  it('invalid JSON names the file', () => {
    const d = tempLab({});
    fs.writeFileSync(path.join(d, 'c1.json'), '{ "kind": ');
    const p = problemsOf(d);
    assert.equal(p[0]?.file, 'demo-lab/c1.json');
    assert.match(p[0]?.message ?? '', /not valid JSON/);
  });
  it('cross-file rules: chapter id, prerequisites, supersededBy, variables, captures, stdin files, regexes', () => {
    const d = tempLab({
      kind: 'chapter', id: 'other', title: { en: 'C', 'zh-cn': 'C' }, nodes: 'node1', steps: [
        goodStep({ prerequisites: ['s2'], supersededBy: ['nope'] }),
        goodStep({ id: 's2', run: [{ run: 'echo {{node9.ip}} {{images.nginx}} {{cap.neverCaptured}}' }, { run: "echo '{{self.ip}}'" }, { run: 'cat', stdinFile: 'missing.txt' }], verify: [{ kind: 'command', run: 'true', expect: { stdout: '(' } }] }),
      ],
    });
    const p = problemsOf(d);
    const has = (pointer: string, re: RegExp): void => assert.ok(p.some((x) => x.pointer === pointer && re.test(x.message)), `${pointer} ${String(re)} in ${JSON.stringify(p)}`);
    has('/id', /file name/);
    has('/steps/0/prerequisites/0', /not an earlier step/);
    has('/steps/0/supersededBy/0', /not a later step/);
    has('/steps/1/run/0/run', /unknown variable \{\{node9\.ip\}\}/);
    has('/steps/1/run/0/run', /images\.nginx/);
    has('/steps/1/run/0/run', /cap\.neverCaptured/);
    has('/steps/1/run/1/run', /single quotes/);
    has('/steps/1/run/2/stdinFile', /does not exist/);
    has('/steps/1/verify/0/expect/stdout', /not a valid regex/);
  });
  it('the message of the thrown error lists "file: pointer message" lines', () => {
    const d = tempLab({ kind: 'chapter', id: 'c1', title: { en: 'C', 'zh-cn': 'C' }, nodes: 'node1', steps: [goodStep({ nodes: 'all' })] });
    assert.throws(() => loadLab(d, { schemaFile }), (e: Error) => /^demo-lab\/c1\.json: \/steps\/0\/nodes /m.test(e.message));
  });
});
