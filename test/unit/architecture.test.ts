import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '..', '..', '..');

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) { return []; }
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const importsVscode = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;

describe('architecture', () => {
  it('src/core, src/cli and lab/ never import vscode', () => {
    const files = [...tsFiles(path.join(root, 'src', 'core')), ...tsFiles(path.join(root, 'src', 'cli')), ...tsFiles(path.join(root, 'lab'))];
    assert.ok(files.length > 5, `expected core sources under ${root}`);
    const offenders = files.filter((f) => importsVscode.test(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(offenders.map((f) => path.relative(root, f)), []);
  });
  it('the pattern used above does catch a vscode import', () => {
    assert.ok(importsVscode.test("import * as vscode from 'vscode';"));
    assert.ok(importsVscode.test("const v = require('vscode');"));
    assert.ok(!importsVscode.test("import { x } from './vscodeish';"));
  });
  it('no file in src/ uses a default export', () => {
    const offenders = tsFiles(path.join(root, 'src')).filter((f) => /^export default /m.test(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });
});
