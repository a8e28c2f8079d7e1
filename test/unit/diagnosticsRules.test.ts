import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fillTemplate } from '../../src/core/diagnostics/fixTemplate';
import { diagnoseText } from '../../src/core/diagnostics/matcher';
import { catalogRules } from '../../src/core/diagnostics/catalogRules';
import { lintText } from '../../src/core/diagnostics/commandLinter';
import { diagnosticRules } from '../../src/core/diagnostics/rules';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'diagnostics');
interface CatalogExample { readonly id: string; readonly example: string; readonly fix: string }
const catalog = JSON.parse(fs.readFileSync(path.join(fixtures, 'catalog-examples.json'), 'utf8')) as CatalogExample[];

/** Tools whose presence in a fix is a "key command"; for the ones in `withSub` the sub-command counts too. */
const tools = new Set(['docker', 'dockerd', 'etcdctl', 'etcd', 'systemctl', 'firewall-cmd', 'hostnamectl', 'yum', 'modprobe', 'grub2-set-default',
  'grub2-mkconfig', 'journalctl', 'ss', 'nc', 'tcpdump', 'uname', 'ip', 'curl', 'ssh', 'ssh-copy-id', 'lsmod', 'rpm']);
const withSub = new Set(['docker', 'etcdctl', 'systemctl', 'yum', 'ip', 'journalctl']);

/** The key commands of a fix text: `tool` or `tool subcommand` of every command that is not a comment. */
function keyCommands(fix: string): Set<string> {
  const out = new Set<string>();
  for (const raw of fix.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    for (const seg of line.split(/;|&&|\|\||\|/)) {
      const words = seg.trim().split(/\s+/).filter((w) => w !== 'sudo' && !/^[A-Z_]+=/.test(w));
      const tool = words[0];
      if (tool === undefined || !tools.has(tool)) { continue; }
      const sub = withSub.has(tool) ? words.slice(1).find((w) => /^[a-z][a-z-]*$/.test(w)) : undefined;
      out.add(sub === undefined ? tool : `${tool} ${sub}`);
    }
  }
  return out;
}

/** Changes names, addresses, ports and versions of an example the way another learner's output would differ. */
function vary(text: string): string {
  return text
    .replace(/192\.168\.\d+\.(\d+)/g, (_m, n: string) => `10.99.0.${(Number(n) % 200) + 20}`)
    .replace(/10\.0\.0\.3\b/g, '10.0.0.7')
    .replace(/\bmy-overlay\b/g, 'lab-net')
    .replace(/\bweb2\b/g, 'site2')
    .replace(/\bweb\b/g, 'frontend')
    .replace(/\bredis\b(?!\.exceptions|-server)/g, 'cache')
    .replace(/\btest1\b/g, 'box1')
    .replace(/\bngnix\b/g, 'nignx')
    .replace(/\bdocker-node2\b/g, 'lab-b')
    .replace(/localhost\.localdomain/g, 'node.example')
    .replace(/(0\.0\.0\.0|localhost|127\.0\.0\.1):80\b/g, '$1:8080')
    .replace(/port 80\b/g, 'port 8080')
    .replace(/\beth1\b/g, 'ens4')
    .replace(/vxlan2fcf912/g, 'vxlan3abc001')
    .replace(/3\.10\.0-1160\.el7/g, '3.10.0-957.21.3.el7')
    .replace(/at term 2316/g, 'at term 412')
    .replace(/8211f1d0f64f3269/g, 'a1b2c3d4e5f60718')
    .replace(/'n' in -net/g, "'n' in -name");
}

/** How {@link vary} changes a fact value captured on its own (a bare port, the flag of `-net`). */
function varyFact(key: string, value: string): string {
  if (key === 'port' && value === '80') { return '8080'; }
  if (key === 'flag' && value === 'net') { return 'name'; }
  return vary(value);
}

const labDir = path.resolve(__dirname, '..', '..', '..', 'labs', 'docker-networking');

/** Every `"id"` and every `"run"` string of the lab's chapter files. */
function labStrings(key: 'id' | 'run'): string[] {
  const out: string[] = [];
  const walk = (v: unknown, k?: string): void => {
    if (typeof v === 'string') { if (k === key) { out.push(v); } return; }
    if (Array.isArray(v)) { for (const x of v) { walk(x, k); } return; }
    if (v !== null && typeof v === 'object') { for (const [kk, x] of Object.entries(v)) { walk(x, kk); } }
  };
  for (const f of fs.readdirSync(labDir).filter((n) => /^ch\d.*\.json$/.test(n))) { walk(JSON.parse(fs.readFileSync(path.join(labDir, f), 'utf8'))); }
  return out;
}

describe('diagnostics rule table', () => {
  it('every rule names a real step of the lab (or any / setup-ssh)', () => {
    const steps = new Set([...labStrings('id'), 'any', 'setup-ssh']);
    assert.ok(steps.size > 20, 'lab steps not found');
    for (const r of diagnosticRules) { assert.ok(steps.has(r.step), `${r.id}: unknown step ${r.step}`); }
  });

  it('the lab\'s own commands pass the linter without errors or warnings', () => {
    const runs = labStrings('run');
    assert.ok(runs.length > 50);
    const bad = runs.flatMap((cmd) => lintText(cmd).filter((f) => f.severity !== 'info').map((f) => `${f.ruleId}: ${cmd}`));
    assert.deepEqual(bad, []);
  });

  it('has at least 70 rules with unique ids, every catalog id among them', () => {
    assert.ok(diagnosticRules.length >= 70, `only ${diagnosticRules.length} rules`);
    const ids = diagnosticRules.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate rule ids');
    for (const e of catalog) { assert.ok(ids.includes(e.id), `catalog entry ${e.id} has no rule`); }
    assert.equal(catalogRules.length, catalog.length);
  });

  it('every rule is complete: keywords, title, cause, fix, step; no placeholder is left unnamed', () => {
    for (const r of diagnosticRules) {
      assert.ok(r.keywords.length > 0 && r.keywords.every((k) => k.length >= 4), `${r.id}: keywords`);
      assert.ok(r.title.length > 5 && r.cause.length > 20 && r.fix.length > 5 && r.step.length > 0, `${r.id}: texts`);
      const filled = fillTemplate(r.fix, r.defaults);
      assert.doesNotMatch(filled.replace(/\{\{[\s\S]*?\}\}/g, ''), /\{[a-zA-Z]+\}/, `${r.id}: unfilled placeholder`);
      assert.doesNotMatch(r.fix + r.cause, /192\.168\./, `${r.id}: must not carry the tutorial's addresses`);
    }
  });

  for (const e of catalog) {
    it(`catalog example of ${e.id} yields its rule with the catalog's key commands`, () => {
      const findings = diagnoseText(e.example);
      const mine = findings.filter((f) => f.ruleId === e.id);
      assert.ok(mine.length > 0, `no ${e.id} finding; got ${findings.map((f) => f.ruleId).join(', ')}`);
      const want = keyCommands(e.fix);
      const got = keyCommands(mine.map((f) => f.fix).join('\n'));
      const missing = [...want].filter((k) => !got.has(k));
      assert.deepEqual(missing, [], `${e.id}: fix lacks ${missing.join(', ')}`);
    });

    it(`a varied form of the ${e.id} example still matches and its facts follow the variation`, () => {
      const variant = vary(e.example);
      const original = diagnoseText(e.example).filter((f) => f.ruleId === e.id);
      const varied = diagnoseText(variant).filter((f) => f.ruleId === e.id);
      assert.ok(varied.length > 0, `variant did not match: ${variant}`);
      const first = original[0];
      const vfirst = varied[0];
      assert.ok(first !== undefined && vfirst !== undefined);
      for (const [k, v] of Object.entries(first.facts)) {
        assert.equal(vfirst.facts[k], varyFact(k, v), `${e.id}: fact ${k}`);
      }
    });
  }

  it('the variation really changes the examples (so the test above is not vacuous)', () => {
    const changed = catalog.filter((e) => vary(e.example) !== e.example).length;
    assert.ok(changed >= 20, `only ${changed} examples changed`);
  });

  it('fills the fix template from the message facts, then the caller context, then defaults', () => {
    const [f] = diagnoseText('docker: Error response from daemon: Conflict. The container name "/flask-redis" is already in use by container "0123abcd". You have to remove (or rename) that container to be able to reuse that name.');
    assert.equal(f?.ruleId, 'container-name-conflict');
    assert.match(f.fix, /docker rm -f flask-redis/);
    const [g] = diagnoseText('Error: unknown command "cluster-health" for "etcdctl"', { context: { ownIp: '10.99.0.11', peerIp: '10.99.0.12' } });
    assert.match(g?.fix ?? '', /--endpoints=http:\/\/10\.99\.0\.11:2379,http:\/\/10\.99\.0\.12:2379 endpoint health/);
    const [h] = diagnoseText('Error: unknown command "cluster-health" for "etcdctl"');
    assert.match(h?.fix ?? '', /http:\/\/<own-ip>:2379/);
  });
});
