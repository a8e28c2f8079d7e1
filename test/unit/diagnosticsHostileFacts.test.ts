import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkFact, factKinds } from '../../src/core/diagnostics/factKinds';
import { fixPlan } from '../../src/core/diagnostics/fixPlan';
import { fillCommandTemplate, templateKeys } from '../../src/core/diagnostics/fixTemplate';
import { diagnoseText } from '../../src/core/diagnostics/matcher';
import { diagnosticRules } from '../../src/core/diagnostics/rules';
import { splitCommands } from '../../src/core/diagnostics/shellWords';
import { stateRules } from '../../src/core/diagnostics/stateChecks';
import { shellQuote } from '../../src/core/util/shellQuote';
import { hostileStrings, isInertWord, payloads } from './hostileStrings';

// Facts are data, never code: every value a rule captures is checked for its kind before a fix uses it,
// and what a fix puts into a command is shell-quoted. Hostile values go into every captured slot of every
// rule whose fix uses a fact; the filled commands are split into shell words (and the machine-applicable
// ones really run in a shell with a fake PATH): no value may change the command's structure.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-hostile-facts-'));
const canary = path.join(work, 'PWNED');
after(() => { fs.rmSync(work, { recursive: true, force: true }); });

const extra = ['x;touch${IFS}' + canary, 'web`touch ' + canary + '`', 'a\rb', 'web\x1b[2Kdocker ps', 'web\u202egnp.exe', "we'b", 'we"b', 'a\nb', 'a|b', 'a&&b'];
const hostile = [...payloads(canary), ...extra, ...hostileStrings(400, 11, canary)];

/** The names of the pattern's capture groups (aliases folded: `port_2` → `port`). */
function capturedSlots(pattern: RegExp): string[] {
  return [...new Set([...pattern.source.matchAll(/\(\?<([a-zA-Z][a-zA-Z0-9_]*)>/g)].map((m) => (m[1] ?? '').replace(/_\d+$/, '')))];
}

/** Shell words of each simple command of a filled template (comments dropped), as text. */
function structure(text: string): string[][] {
  return splitCommands(text.split('\n').map((t, i) => ({ text: t, line: i + 1 }))).map((c) => c.map((w) => w.text));
}

const rulesWithFacts = diagnosticRules.filter((r) => templateKeys([r.fix, ...(r.fixCommands ?? [])].join('\n')).length > 0);

describe('facts are data: rules declare the kind of every fact their fix uses', () => {
  it('every placeholder of every fix (runtime and state rules) has a declared kind, and no kind is declared for nothing', () => {
    const all = [...diagnosticRules, ...Object.values(stateRules)];
    for (const r of all) {
      const used = templateKeys([r.fix, ...('fixCommands' in r ? r.fixCommands ?? [] : [])].join('\n')).sort();
      const declared = Object.keys((r as { readonly factKinds?: Readonly<Record<string, string>> }).factKinds ?? {}).sort();
      assert.deepEqual(declared, used, `${r.id}: factKinds must list exactly the facts its fix uses`);
    }
    assert.ok(rulesWithFacts.length > 50, `only ${rulesWithFacts.length} rules use facts`);
  });

  it('every value a kind accepts is an inert shell word (shellQuote leaves it as it is, no leading "-")', () => {
    for (const kind of factKinds) {
      for (const v of hostile) {
        if (!checkFact(kind, v)) { continue; }
        for (const word of kind === 'commandWords' ? v.split(' ') : [v]) {
          assert.ok(isInertWord(word), `${kind} accepted ${JSON.stringify(v)}`);
          assert.equal(shellQuote(word), word);
        }
      }
    }
  });

  it('kinds follow Docker\'s own rules where it has them, and refuse the proven payloads', () => {
    assert.ok(checkFact('containerName', 'web-host_1.a'));
    assert.ok(checkFact('containerName', '/web'));
    assert.ok(!checkFact('containerName', 'x'), 'Docker needs two characters ([a-zA-Z0-9][a-zA-Z0-9_.-]+)');
    assert.ok(!checkFact('containerName', '-rf'));
    assert.ok(!checkFact('containerName', 'x;touch${IFS}/tmp/PWNED'));
    assert.ok(!checkFact('containerName', 'web`id`'));
    assert.ok(checkFact('imageRef', 'docker.io/library/nginx:1.25@sha256:' + 'a'.repeat(64)));
    assert.ok(checkFact('imageRef', 'localhost:5000/me/flask-redis'));
    assert.ok(!checkFact('imageRef', 'Nginx'));
    assert.ok(checkFact('ipAddress', '10.99.0.11') && checkFact('ipAddress', '::1') && !checkFact('ipAddress', '10.99.0.256'));
    assert.ok(checkFact('port', '65535') && !checkFact('port', '0') && !checkFact('port', '65536'));
    assert.ok(checkFact('hostname', 'docker-node1') && !checkFact('hostname', '-node') && !checkFact('hostname', 'a..b'));
    assert.ok(checkFact('pidFile', '/var/run/docker.pid') && !checkFact('pidFile', '/etc/passwd') && !checkFact('pidFile', '/run/../etc/x.pid'));
    assert.ok(checkFact('interface', 'eth0') && !checkFact('interface', 'a'.repeat(16)));
    assert.ok(checkFact('url', 'http://10.99.0.11:2379') && !checkFact('url', 'http://10.99.0.11:2379/$(id)'));
  });
});

describe('facts are data: hostile values in every captured slot', () => {
  it('no hostile value changes the shell structure of any fix: each is refused (hint left, reason given) or quoted', () => {
    let refusedCount = 0;
    let acceptedCount = 0;
    for (const r of rulesWithFacts) {
      const kinds = r.factKinds ?? {};
      const slots = [...new Set([...capturedSlots(r.pattern), ...(r.continuation === undefined ? [] : capturedSlots(r.continuation)), ...Object.keys(kinds)])];
      const templates = [r.fix, ...(r.fixCommands ?? [])];
      for (const slot of slots) {
        for (const template of templates) {
          if (!templateKeys(template).includes(slot)) { continue; }
          const benign = structure(fillCommandTemplate(template, kinds, [{ [slot]: 'benign1' }], r.defaults).text);
          // what a refused value leaves behind: the same text whatever the value was
          const refusedText = fillCommandTemplate(template, kinds, [{ [slot]: ' ;' }], r.defaults).text;
          for (const v of hostile) {
            if (v === '') { continue; } // an empty group is no fact at all
            const filled = fillCommandTemplate(template, kinds, [{ [slot]: v }], r.defaults);
            const words = structure(filled.text);
            assert.equal(words.length, benign.length, `${r.id} {${slot}} = ${JSON.stringify(v)} changed the commands: ${filled.text}`);
            words.forEach((w, i) => assert.equal(w.length, benign[i]?.length, `${r.id} {${slot}} = ${JSON.stringify(v)} changed the words: ${filled.text}`));
            if (filled.refused.length > 0) {
              refusedCount++;
              assert.equal(filled.text, refusedText, `${r.id}: a refused value ${JSON.stringify(v)} left a trace in the fix`);
              assert.match(filled.refused.join(' '), new RegExp(`the ${slot} "`));
            } else {
              acceptedCount++;
              assert.ok(isInertWord(v.replace(/^\//, '').replace(/ /g, '')), `${r.id} {${slot}} accepted ${JSON.stringify(v)}`);
            }
          }
        }
      }
    }
    assert.ok(refusedCount > 10_000 && acceptedCount > 100, `refused ${refusedCount}, accepted ${acceptedCount}`);
  });

  it('the machine-applicable fixes, filled with every hostile value, run in a real shell without leaving the canary', () => {
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    // docker and xargs print their arguments; touch is the real one, so an escaped payload would leave the canary
    for (const name of ['docker', 'xargs']) { fs.writeFileSync(path.join(bin, name), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 }); }
    fs.symlinkSync(fs.existsSync('/usr/bin/touch') ? '/usr/bin/touch' : '/bin/touch', path.join(bin, 'touch'));
    const withCommands = rulesWithFacts.filter((r) => r.fixCommands !== undefined);
    assert.ok(withCommands.length >= 3);
    let ran = 0;
    for (const r of withCommands) {
      for (const slot of Object.keys(r.factKinds ?? {})) {
        for (const v of [...payloads(canary), ...extra]) {
          const line = (r.fixCommands ?? []).map((c) => fillCommandTemplate(c, r.factKinds ?? {}, [{ [slot]: v, container: 'web1', port: '8080' }]));
          if (line.some((c) => c.refused.length > 0)) { continue; }
          for (const c of line) {
            const res = spawnSync('/bin/sh', ['-c', c.text], { cwd: work, env: { PATH: bin }, encoding: 'utf8', timeout: 5000 });
            assert.equal(res.error, undefined, `${r.id}: ${c.text}`);
            ran++;
          }
          assert.ok(!fs.existsSync(canary), `${r.id} {${slot}} = ${JSON.stringify(v)} ran the payload`);
        }
      }
    }
    assert.ok(ran > 0);
  });

  it('the proven holes through the matcher: the endpoint payload, backticks, \\r and ANSI are refused with a reason', () => {
    const lines = [
      'docker: Error response from daemon: endpoint with name x;touch${IFS}/tmp/PWNED already exists in network my-overlay.',
      'docker: Error response from daemon: Conflict. The container name "/web`touch /tmp/PWNED`" is already in use by container "3f2a9c". You have to remove it.',
      'docker: Error response from daemon: endpoint with name web\x1b[2Kharmless already exists in network my-overlay.',
      'docker: Error response from daemon: Conflict. The container name "/web\rdocker ps" is already in use by container "3f2a9c".',
      'docker: Error response from daemon: endpoint with name web\u202eexe.sh already exists in network my-overlay.',
    ];
    for (const line of lines) {
      const f = diagnoseText(line).find((x) => x.fixRefused !== undefined || x.fixCommands !== undefined);
      assert.ok(f !== undefined, `no finding with a fix for ${JSON.stringify(line)}`);
      const plan = fixPlan(f);
      assert.equal(plan.kind, 'none', `${JSON.stringify(line)} was planned: ${JSON.stringify(plan)}`);
      assert.match(plan.kind === 'none' ? plan.reason : '', /not a valid container name/);
      assert.ok(!f.fix.includes('PWNED') && !f.fix.includes('\x1b') && !f.fix.includes('\r'), f.fix);
    }
    // a valid name still gets its fix, quoted
    const ok = diagnoseText('docker: Error response from daemon: endpoint with name web1 already exists in network my-overlay.')[0];
    assert.deepEqual(ok === undefined ? undefined : fixPlan(ok), { kind: 'commands', commands: ['docker rm -f web1'], destructive: true });
  });

  it('--node (the caller\'s node) wins over the journal host name of the line, and a journal host name must be a host name', () => {
    const line = 'Nov 25 17:52:53 docker-node2 dockerd[7]: Error response from daemon: Conflict. The container name "/web" is already in use by container "3f2a9c".';
    assert.equal(diagnoseText(line)[0]?.facts['node'], 'docker-node2');
    assert.equal(diagnoseText(line, { context: { node: 'docker-node1' } })[0]?.facts['node'], 'docker-node1');
    const bad = line.replace('docker-node2', '-node..2');
    assert.equal(diagnoseText(bad)[0]?.facts['node'], undefined);
  });
});
