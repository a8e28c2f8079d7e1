// Drift: package.json's walkthrough, walkthroughs/*.md and package.nls*.json are generated
// (scripts/genWalkthrough.mjs); this test re-runs the generator in memory and fails when a file
// differs from what it would write, i.e. when someone edited an output by hand or forgot `npm run build`.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stepContextKey } from '../../src/core/lab/labDefinition';
import { loadLab } from '../../src/core/lab/loadLab';
import { loadGenerator, repoRoot } from './walkthroughGen';

const labDir = path.join(repoRoot, 'labs', 'docker-networking');

/**
 * The identifier regex of VS Code's context-key expression scanner (`stringRe` in
 * src/vs/platform/contextkey/common/scanner.ts, as shipped in the code-server 4.139 build the
 * VS Code tests use). A key that matches it entirely is read as one key token.
 */
const vscodeContextKeyToken = /^[a-zA-Z0-9_<>\-./\\:*?+[\]^,#@;"%$\p{L}-]+$/u;

interface Manifest {
  contributes: { walkthroughs?: { id: string; title: string; steps: { id: string; title: string; description: string; completionEvents: string[]; media: { markdown: string } }[] }[] };
}

describe('walkthrough drift', () => {
  const gen = loadGenerator();
  const { outputs, generated } = gen.expectedOutputs(repoRoot);

  it('every generated file is up to date (run `npm run build` or `node scripts/genWalkthrough.mjs`)', () => {
    const stale: string[] = [];
    for (const [rel, text] of Object.entries(outputs)) {
      const file = path.join(repoRoot, rel);
      const actual = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)';
      if (actual !== text) { stale.push(rel); }
    }
    assert.deepEqual(stale, [], `hand-edited or out of date: ${stale.join(', ')}`);
    assert.deepEqual(gen.staleWalkthroughFiles(repoRoot, outputs), [], 'pages under walkthroughs/ that no step generates');
  });

  it('the walkthrough lists every step of the lab definition, in order', () => {
    const lab = loadLab(labDir);
    const ids = lab.chapters.flatMap((c) => c.steps.map((s) => s.id));
    assert.ok(ids.length > 0);
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
    const w = manifest.contributes.walkthroughs?.find((x) => x.id === 'dockerNetLab.tutorial');
    assert.ok(w, 'contributes.walkthroughs has no dockerNetLab.tutorial');
    assert.deepEqual(w.steps.map((s) => s.id), ids);
    assert.deepEqual(generated.steps, ids);
  });

  it('every step and chapter has English and Chinese prose', () => {
    const lab = loadLab(labDir);
    const missing: string[] = [];
    for (const id of [...lab.chapters.map((c) => c.id), ...lab.chapters.flatMap((c) => c.steps.map((s) => s.id))]) {
      for (const lang of ['en', 'zh-cn']) {
        const rel = `text/${id}.${lang}.md`;
        if (!fs.existsSync(path.join(labDir, rel))) { missing.push(rel); }
      }
    }
    assert.deepEqual(missing, []);
  });

  it('every %key% of the walkthrough resolves in both nls files', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
    const en = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const zh = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.zh-cn.json'), 'utf8')) as Record<string, string>;
    const keys: string[] = [];
    for (const w of manifest.contributes.walkthroughs ?? []) {
      for (const v of [w.title, ...w.steps.flatMap((s) => [s.title, s.description])]) {
        const m = /^%([\w.-]+)%$/.exec(v);
        assert.ok(m, `${v} is not an nls placeholder`);
        keys.push(m[1]!);
      }
    }
    assert.deepEqual(keys.filter((k) => en[k] === undefined), [], 'missing in package.nls.json');
    assert.deepEqual(keys.filter((k) => zh[k] === undefined), [], 'missing in package.nls.zh-cn.json');
    for (const k of keys.filter((x) => x.endsWith('.description'))) {
      assert.match(zh[k]!, /[\u4e00-\u9fff]/, `${k}: the Chinese description has no Chinese text`);
      assert.match(en[k]!, /\[Run this step\]\(command:dockerNetLab\.step\.run\?%5B%22[a-z0-9-]+%22%5D\)/);
    }
  });

  it('every %key% anywhere in package.json resolves in both nls files', () => {
    const text = fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8');
    const en = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const zh = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.zh-cn.json'), 'utf8')) as Record<string, string>;
    const keys = [...text.matchAll(/"%([\w.-]+)%"/g)].map((m) => m[1]!);
    assert.ok(keys.includes('steps.command.run') && keys.includes('steps.view.name'), 'the Lab Steps titles are localized');
    assert.deepEqual(keys.filter((k) => en[k] === undefined || zh[k] === undefined), []);
  });

  it('completion events use the core\'s context keys, in a form VS Code\'s context-key parser reads as one key', () => {
    for (const s of gen.generate(repoRoot).walkthroughs[0]!.steps) {
      assert.equal(s.completionEvents.length, 1);
      const ev = s.completionEvents[0]!;
      assert.ok(ev.startsWith('onContext:'), ev);
      const key = ev.slice('onContext:'.length);
      assert.equal(key, stepContextKey(s.id));
      assert.equal(key, gen.stepContextKey(s.id));
      assert.match(key, vscodeContextKeyToken);
      assert.match(key, /^[A-Za-z][A-Za-z0-9_.]*$/, 'letters, digits, _ and . only (the step id with - replaced by _)');
    }
  });

  it('the context-key check itself rejects keys the parser would split', () => {
    assert.doesNotMatch('dockerNetLab.step.a b', vscodeContextKeyToken);
    assert.doesNotMatch('a&&b', vscodeContextKeyToken);
    assert.doesNotMatch('a==b', vscodeContextKeyToken);
    assert.doesNotMatch('!a', vscodeContextKeyToken);
  });
});
