// The walkthrough generator (scripts/genWalkthrough.mjs) on a small lab written to a temp dir:
// pages, manifest entries, nls files, package.json splicing that leaves every other byte alone.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadGenerator } from './walkthroughGen';

function prose(title: string, summary: string): string {
  return `# ${title}\n\n${summary}\n\nMore text with a figure ![f](media/fig.svg).\n`;
}

const made: string[] = [];
after(() => { for (const d of made) { fs.rmSync(d, { recursive: true, force: true }); } });

function fixtureLab(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wt-gen-'));
  made.push(root);
  const lab = path.join(root, 'labs', 'docker-networking');
  fs.mkdirSync(path.join(lab, 'text'), { recursive: true });
  fs.writeFileSync(path.join(lab, 'lab.json'), JSON.stringify({
    kind: 'lab', schemaVersion: 1, id: 'docker-networking', title: { en: 'L', 'zh-cn': 'L' },
    images: { nginx: 'nginx:latest' }, clusterStoreMaxDockerMajor: 22, chapters: ['c1.json', 'c2.json'],
  }));
  fs.writeFileSync(path.join(lab, 'c1.json'), JSON.stringify({
    kind: 'chapter', id: 'c1', title: { en: 'One', 'zh-cn': '一' }, nodes: 'node1',
    steps: [
      { id: 'c1-run', title: { en: 'Run it', 'zh-cn': '运行' }, nodes: 'node1',
        prepare: [{ run: 'docker rm -f web', allowFailure: true }],
        run: [{ run: 'docker run -d --name web {{images.nginx}}' }, { run: 'curl -s http://{{node1.ip}}/', on: 'node2' }],
        verify: [{ kind: 'docker', object: 'container', name: 'web', match: { 'State.Running': 'true' } },
          { kind: 'http', from: 'node2', url: 'http://{{node1.ip}}/', body: 'nginx' }] },
      { id: 'c1-fails', title: { en: 'Fails', 'zh-cn': '失败' }, nodes: 'node1',
        expectFailure: { run: 'curl http://127.0.0.1', output: 'refused', explanation: { en: 'Nothing listens.', 'zh-cn': '没有监听。' } },
        verify: [] },
    ],
  }));
  fs.writeFileSync(path.join(lab, 'c2.json'), JSON.stringify({
    kind: 'chapter', id: 'c2', title: { en: 'Two', 'zh-cn': '二' }, nodes: 'both',
    steps: [{ id: 'c2-swarm', title: { en: 'Swarm', 'zh-cn': '集群' }, nodes: 'both', when: { overlayPath: 'swarm' },
      run: [{ run: 'docker swarm init --advertise-addr {{node1.ip}}', on: 'node1', when: { labDockerd: true } }, { run: 'iptables -S INPUT', sudo: true }],
      verify: [{ kind: 'command', run: 'docker info --format "{{.Swarm.LocalNodeState}}"', on: 'node1', expect: { stdout: 'active' } },
        { kind: 'command', run: 'ufw status', sudo: true }] }],
  }));
  for (const id of ['c1', 'c1-run', 'c1-fails', 'c2', 'c2-swarm']) {
    fs.writeFileSync(path.join(lab, 'text', `${id}.en.md`), prose(`T ${id}`, `Summary of ${id}.`));
    fs.writeFileSync(path.join(lab, 'text', `${id}.zh-cn.md`), prose(`标题 ${id}`, `${id} 的摘要。`));
  }
  fs.writeFileSync(path.join(lab, 'text', 'c1-fails.en.md'), prose('T c1-fails', 'Ask for the page on loopback.'));
  fs.writeFileSync(path.join(lab, 'text', 'c1-fails.zh-cn.md'), prose('标题 c1-fails', '在回环地址上请求页面，这一步会失败。'));
  fs.writeFileSync(path.join(root, 'package.json'),
    '{\n  "name": "x",\n  "categories": ["A", "B"],\n  "contributes": {\n    "commands": [{ "command": "a", "title": "A" }]\n  }\n}\n');
  fs.writeFileSync(path.join(root, 'package.nls.json'), '{ "other.key": "kept", "walkthrough.step.gone.title": "stale" }\n');
  return root;
}

describe('walkthrough generator', () => {
  const gen = loadGenerator();

  it('makes one walkthrough step per lab step, in lab order, with nls placeholders and completion keys', () => {
    const root = fixtureLab();
    const g = gen.generate(root);
    assert.deepEqual(g.steps, ['c1-run', 'c1-fails', 'c2-swarm']);
    const w = g.walkthroughs[0]!;
    assert.equal(w.id, 'dockerNetLab.tutorial');
    assert.deepEqual(w.steps.map((s) => s.id), g.steps);
    const s0 = w.steps[0]!;
    assert.equal(s0.title, '%walkthrough.step.c1_run.title%');
    assert.equal(s0.media.markdown, 'walkthroughs/c1-run.md');
    assert.deepEqual(s0.completionEvents, ['onContext:dockerNetLab.step.c1_run']);
    assert.equal(w.steps[2]!.when, 'dockerNetLab.overlayPath != cluster-store');
    assert.equal(s0.when, undefined);
    const desc = g.nls.en['walkthrough.step.c1_run.description']!;
    assert.match(desc, /^Summary of c1-run\./);
    assert.ok(desc.includes('[Run this step](command:dockerNetLab.step.run?%5B%22c1-run%22%5D)'), desc);
    assert.ok(desc.includes('(command:dockerNetLab.step.verify?%5B%22c1-run%22%5D)'), desc);
    assert.match(g.nls['zh-cn']['walkthrough.step.c1_run.description']!, /^c1-run 的摘要。[\s\S]*运行此步骤/);
    assert.equal(g.nls.en['walkthrough.step.c1_run.title'], '1.1 Run it');
    assert.equal(g.nls['zh-cn']['walkthrough.step.c2_swarm.title'], '2.1 集群');
    assert.match(g.nls.en['walkthrough.step.c2_swarm.description']!, /\[Choose the overlay path\]\(command:dockerNetLab\.lab\.chooseOverlayPath\)$/);
    assert.doesNotMatch(desc, /chooseOverlayPath/, 'only chapters with path-specific steps offer the choice');
    assert.match(g.nls.en['walkthrough.step.c1_fails.description']!, /^Ask for the page on loopback\. \(This step is expected to fail\.\)/);
    assert.doesNotMatch(g.nls['zh-cn']['walkthrough.step.c1_fails.description']!, /预期会失败/, 'not repeated when the summary already says it fails');
  });

  it('writes pages with the prose, the exact commands per node, the checks and the Chinese section', () => {
    const g = gen.generate(fixtureLab());
    const page = g.files['walkthroughs/c1-run.md']!;
    assert.ok(page.includes('# T c1'), 'chapter intro on the first step of a chapter');
    assert.ok(page.includes('](../media/fig.svg)'), 'figure paths rebased to walkthroughs/');
    assert.ok(page.includes('docker run -d --name web nginx:latest'), 'image names filled in');
    assert.ok(page.includes('On **node2**:\n\n```sh\ncurl -s http://<node1-ip>/\n```'), page);
    assert.ok(page.includes('docker rm -f web   # may fail'));
    assert.ok(page.includes('`docker container inspect web` has `State.Running` ~ `true`'));
    assert.ok(page.includes('from **node2**: `curl http://<node1-ip>/` answers 200'));
    const zhAt = page.indexOf('## 简体中文');
    assert.ok(zhAt > page.indexOf('### Commands') && page.indexOf('c1-run 的摘要') > zhAt);
    const fails = g.files['walkthroughs/c1-fails.md']!;
    assert.ok(!fails.includes('# T c1\n'), 'chapter intro only once');
    assert.ok(fails.includes('### Expected to fail') && fails.includes('`refused`') && fails.includes('没有监听。'));
    const swarm = g.files['walkthroughs/c2-swarm.md']!;
    assert.ok(swarm.includes('{{.Swarm.LocalNodeState}}'), 'Go templates are left alone');
    assert.ok(swarm.includes('# local lab'), 'conditions are shown');
  });

  it('says which commands need root, in English and in Chinese, only on the steps that have them', () => {
    const g = gen.generate(fixtureLab());
    const page = g.files['walkthroughs/c2-swarm.md'] ?? '';
    assert.match(page, /^_Runs on node1, then node2 · swarm path only · needs root \(sudo\)\._$/m);
    assert.match(page, /^iptables -S INPUT {3}# as root$/m);
    assert.match(page, /^docker swarm init --advertise-addr <node1-ip> {3}# local lab$/m);
    assert.match(page, /`ufw status` succeeds _\(as root\)_/);
    const [en, zh] = page.split('## 简体中文');
    assert.match(en ?? '', /Commands marked `as root` need root\..*DOCKER_NET_LAB_SUDO_PASSWORD/);
    assert.match(zh ?? '', /标有 `as root` 的命令需要 root 权限。.*DOCKER_NET_LAB_SUDO_PASSWORD/);
    const plain = g.files['walkthroughs/c1-run.md'] ?? '';
    assert.doesNotMatch(plain, /as root|needs root|root 权限/);
  });

  it('fails loudly when a prose file is missing or has no title', () => {
    const root = fixtureLab();
    fs.rmSync(path.join(root, 'labs', 'docker-networking', 'text', 'c1-fails.zh-cn.md'));
    assert.throws(() => gen.generate(root), /missing prose file .*c1-fails\.zh-cn\.md/);
    assert.throws(() => gen.parseProse('no title\n\ntext', 'x.md'), /first line/);
    assert.throws(() => gen.parseProse('# Title\n\n', 'x.md'), /summary/);
  });

  it('splices contributes.walkthroughs without touching any other byte, and replaces it on the next run', () => {
    const root = fixtureLab();
    const before = fs.readFileSync(path.join(root, 'package.json'), 'utf8');
    const g = gen.generate(root);
    const once = gen.spliceWalkthroughs(before, g.walkthroughs);
    assert.deepEqual((JSON.parse(once) as { contributes: { walkthroughs: unknown } }).contributes.walkthroughs, g.walkthroughs);
    assert.ok(once.startsWith('{\n  "name": "x",\n  "categories": ["A", "B"],\n  "contributes": {\n    "commands": [{ "command": "a", "title": "A" }],\n'));
    const twice = gen.spliceWalkthroughs(once, g.walkthroughs);
    assert.equal(twice, once, 'idempotent');
    const other = gen.spliceWalkthroughs(once, [{ id: 'x', steps: [] }]);
    assert.equal(other.replace(/"walkthroughs": \[[\s\S]*\]\n {2}\}/, ''), once.replace(/"walkthroughs": \[[\s\S]*\]\n {2}\}/, ''));
  });

  it('keeps foreign nls keys and drops stale walkthrough keys', () => {
    const merged = JSON.parse(gen.mergeNls('{ "other.key": "kept", "walkthrough.step.gone.title": "stale" }', { 'walkthrough.a': 'A' })) as Record<string, string>;
    assert.deepEqual(merged, { 'other.key': 'kept', 'walkthrough.a': 'A' });
  });

  it('expectedOutputs covers pages, package.json and both nls files; stale pages are found', () => {
    const root = fixtureLab();
    const { outputs } = gen.expectedOutputs(root);
    assert.deepEqual(Object.keys(outputs).sort(), ['package.json', 'package.nls.json', 'package.nls.zh-cn.json',
      'walkthroughs/c1-fails.md', 'walkthroughs/c1-run.md', 'walkthroughs/c2-swarm.md']);
    fs.mkdirSync(path.join(root, 'walkthroughs'));
    fs.writeFileSync(path.join(root, 'walkthroughs', 'old-step.md'), 'x');
    assert.deepEqual(gen.staleWalkthroughFiles(root, outputs), ['walkthroughs/old-step.md']);
  });

  it('renders placeholders for the reader', () => {
    assert.equal(gen.renderForReader('ping {{ node2.ip }} {{cap.webIp}} {{images.nginx}} {{.Name}}', { nginx: 'nginx' }),
      'ping <node2-ip> <cap.webIp> nginx {{.Name}}');
  });
});
