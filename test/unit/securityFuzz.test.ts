import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import { defaultLabDir, loadLab } from '../../src/core/lab/loadLab';
import { ProgressStore } from '../../src/core/lab/progressStore';
import { StepRunner } from '../../src/core/lab/stepRunner';
import { renderTemplate, validateCapture } from '../../src/core/lab/template';
import { parseNodeConfig, parseNodesFile } from '../../src/core/nodes/nodesFile';
import type { RemoteShell, ShellProvider } from '../../src/core/remoteShell';
import { shellQuote } from '../../src/core/util/shellQuote';
import { describeNodeProblem, parseUserHostPort } from '../../src/vscode/nodes/nodeSettings';
import { hostileStrings, isInertWord, seededRandom } from './hostileStrings';

// Security fuzz over every place where a name, address, port or user from settings or user input enters
// the core: 10 000 deterministic hostile strings (seeded PRNG). A rejected value must be a LabError with
// the right code naming the field; an accepted value must be inert (shell-safe, not option-looking), and
// quoting is proven by a round trip through a real `sh` that would create a canary file on injection.

const count = 10_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-secfuzz-'));
const canary = path.join(tmp, 'CANARY');
const inputs = hostileStrings(count, 0x5eed, canary);
const tally: Record<string, { tried: number; rejected: number; accepted: number }> = {};
function count1(target: string, accepted: boolean): void {
  const t = tally[target] ??= { tried: 0, rejected: 0, accepted: 0 };
  t.tried++;
  if (accepted) { t.accepted++; } else { t.rejected++; }
}

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`# security fuzz (unit): ${JSON.stringify(tally)}\n`);
});

const baseNode = { name: 'node1', host: '10.99.0.11', port: 22, user: 'root', auth: 'agent' } as const;

describe('security fuzz: settings and user input', () => {
  it('has 10 000 distinct-enough hostile strings, deterministic for the seed', () => {
    assert.equal(inputs.length, count);
    assert.deepEqual(hostileStrings(50, 0x5eed, canary), inputs.slice(0, 50));
    assert.ok(new Set(inputs).size > count * 0.8, 'mostly distinct');
    assert.ok(inputs.some((s) => s.includes('\0')) && inputs.some((s) => s.length > 4000) && inputs.some((s) => s.startsWith('-o')));
  });

  for (const field of ['name', 'host', 'user', 'keyFile'] as const) {
    it(`parseNodeConfig: every hostile ${field} is refused with InvalidSettings naming /${field}, or is inert`, () => {
      for (const s of inputs) {
        const value = { ...baseNode, auth: field === 'keyFile' ? 'key' : 'agent', [field]: s };
        let ok = false;
        try {
          const n = parseNodeConfig(value, 'fuzz');
          ok = true;
          if (field !== 'keyFile') { assert.ok(isInertWord(n[field]), `accepted ${field} ${JSON.stringify(s)} is not inert`); }
        } catch (e) {
          assert.ok(isLabError(e, 'InvalidSettings'), `${JSON.stringify(s)}: ${String(e)}`);
          assert.ok(e.message.includes(`/${field}`), `message names the field: ${e.message.slice(0, 200)}`);
          // the settings view gets the field as data, not from the message
          assert.equal(describeNodeProblem(value)?.field, field);
        }
        count1(`parseNodeConfig.${field}`, ok);
      }
    });
  }

  it('parseNodeConfig: ports that are not integers 1..65535 are refused naming /port', () => {
    const rnd = seededRandom(7);
    const ports: unknown[] = [...inputs.slice(0, 2000), 0, -1, 65536, 1e9, 22.5, NaN, Infinity, null, true, [], {}, '22', ' 22'];
    for (let i = 0; i < 500; i++) { ports.push(Math.floor((rnd() - 0.3) * 200_000)); }
    for (const p of ports) {
      const value = { ...baseNode, port: p };
      let ok = false;
      try {
        const n = parseNodeConfig(value, 'fuzz');
        ok = true;
        assert.ok(Number.isInteger(n.port) && n.port >= 1 && n.port <= 65535, `accepted port ${String(p)}`);
      } catch (e) {
        assert.ok(isLabError(e, 'InvalidSettings'), String(e));
        assert.ok(e.message.includes('/port'), e.message);
        assert.equal(describeNodeProblem(value)?.field, 'port');
      }
      count1('parseNodeConfig.port', ok);
    }
  });

  it('Add Node: user@host:port text is refused with a message, or yields an inert user/host and a valid port', () => {
    for (const s of inputs) {
      for (const text of [s, `root@${s}`, `${s}@node1`, `root@node1:${s}`, `${s}@${s}:${s}`, `root@[${s}]:22`]) {
        const r = parseUserHostPort(text);
        count1('parseUserHostPort', r.ok);
        if (!r.ok) {
          assert.ok(r.message.length > 0);
          continue;
        }
        assert.ok(isInertWord(r.user) && isInertWord(r.host), `accepted ${JSON.stringify(text)} -> ${JSON.stringify(r)}`);
        assert.ok(Number.isInteger(r.port) && r.port >= 1 && r.port <= 65535);
        // what Add Node then stores must pass the node schema too
        parseNodeConfig({ name: 'n', host: r.host, port: r.port, user: r.user, auth: 'agent' }, 'fuzz');
      }
    }
  });

  it('captured values: every type refuses hostile output with InvalidInput naming the capture, or returns an inert value', () => {
    for (const type of ['ipv4', 'name', 'int', 'token'] as const) {
      for (const s of inputs) {
        let ok = false;
        try {
          const v = validateCapture(s, type, 'cap.fuzzValue');
          ok = true;
          assert.ok(isInertWord(v), `${type} accepted ${JSON.stringify(s)}`);
        } catch (e) {
          assert.ok(isLabError(e, 'InvalidInput'), String(e));
          assert.ok(e.message.includes('cap.fuzzValue'), e.message.slice(0, 200));
        }
        count1(`validateCapture.${type}`, ok);
      }
    }
  });

  it('templates: a hostile value is refused in double quotes and plain mode (naming the variable), and quoted as one word outside quotes', () => {
    for (const s of inputs) {
      const vars = { 'cap.x': s, 'node1.ip': s, 'self.name': s };
      for (const [template, mode, variable] of [
        ['echo "{{node1.ip}}"', 'shell', 'node1.ip'], ['http://{{node1.ip}}:80/', 'plain', 'node1.ip'], ["echo '{{cap.x}}'", 'shell', 'cap.x'],
      ] as const) {
        try {
          const out = renderTemplate(template, vars, mode);
          count1(`renderTemplate.${mode}`, true);
          assert.ok(isInertWord(s) || /^[A-Za-z0-9_@%+=:,./-]+$/.test(s), `placed bare: ${JSON.stringify(s)} -> ${out}`);
        } catch (e) {
          count1(`renderTemplate.${mode}`, false);
          assert.ok(isLabError(e, 'InvalidInput'), String(e));
          assert.ok(e.message.includes(`{{${variable}}}`), e.message.slice(0, 200));
        }
      }
      if (s.includes('\0')) {
        assert.throws(() => renderTemplate('echo {{self.name}}', vars), (e: unknown) => isLabError(e, 'InvalidInput') && e.message.includes('{{self.name}}'));
        count1('renderTemplate.unquoted', false);
      } else {
        assert.equal(renderTemplate('echo {{self.name}}', vars), `echo ${shellQuote(s)}`);
        count1('renderTemplate.unquoted', true);
      }
    }
  });

  it('shellQuote + templates round-trip every NUL-free value through a real sh unchanged, and nothing ran', (t) => {
    if (spawnSync('sh', ['-c', 'true']).status !== 0) { t.skip('no sh on this machine'); return; }
    const outDir = path.join(tmp, 'out');
    fs.mkdirSync(outDir);
    const values = inputs.filter((s) => !s.includes('\0'));
    const lines = values.map((s, i) => (i % 2 === 0
      ? `printf %s ${shellQuote(s)} > ${shellQuote(path.join(outDir, String(i)))}`
      : `${renderTemplate('printf %s {{cap.x}}', { 'cap.x': s })} > ${shellQuote(path.join(outDir, String(i)))}`));
    const script = path.join(tmp, 'roundtrip.sh');
    fs.writeFileSync(script, `cd ${shellQuote(tmp)} || exit 9\n${lines.join('\n')}\n`);
    const r = spawnSync('sh', [script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr.slice(0, 500));
    values.forEach((s, i) => {
      assert.equal(fs.readFileSync(path.join(outDir, String(i)), 'utf8'), s, `value ${i} changed on its way through sh`);
      count1('shellQuote.sh', true);
    });
    assert.ok(!fs.existsSync(canary), 'a payload ran: the canary file exists');
    assert.ok(values.length > count * 0.9);
  });

  it('shellQuote refuses a NUL byte (a shell word cannot hold one; an exec would cut the command there)', () => {
    for (const s of inputs.filter((x) => x.includes('\0'))) {
      assert.throws(() => shellQuote(s), (e: unknown) => isLabError(e, 'InvalidInput'));
      count1('shellQuote.nul', false);
    }
  });

  it('step ids: every hostile id is NotFound before any command runs', async () => {
    const lab = loadLab(defaultLabDir('docker-networking', __dirname));
    const commands: string[] = [];
    // a FAKE shell provider that only records: a hostile id must never reach it
    const shells: ShellProvider = {
      nodeNames: () => ['docker-node1', 'docker-node2'],
      shell: (node: string): Promise<RemoteShell> => Promise.resolve({ node, exec: (c: string) => { commands.push(c); return Promise.resolve({ code: 0, stdout: '', stderr: '' }); } }),
    };
    const runner = new StepRunner({ lab, shells, progress: new ProgressStore(path.join(tmp, 'progress.json'), 'fuzz') });
    const ids = new Set(lab.chapters.flatMap((c) => c.steps.map((s) => s.id)));
    for (const s of inputs) {
      if (ids.has(s)) { continue; }
      await assert.rejects(runner.runStep(s), (e: unknown) => isLabError(e, 'NotFound'));
      await assert.rejects(runner.plannedCommands(s), (e: unknown) => isLabError(e, 'NotFound'));
      count1('runStep.id', false);
    }
    assert.deepEqual(commands, []);
  });

  it('nodes file: 3 000 mutated documents are parsed or refused with InvalidNodesFile, never anything else', () => {
    const rnd = seededRandom(42);
    const good = JSON.stringify({ version: 1, source: 'user', nodes: [
      { name: 'docker-node1', host: '10.99.0.11', port: 22, user: 'root', auth: 'key', keyFile: '/k', hostKeyFingerprints: [`SHA256:${'A'.repeat(43)}`], docker: { transport: 'ssh' } },
      { name: 'docker-node2', host: '10.99.0.12', port: 22, user: 'root', auth: 'agent' },
    ] });
    assert.equal(parseNodesFile(good, 'nodes.json').nodes.length, 2);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      let text: string;
      const r = rnd();
      if (r < 0.4) {
        // byte-level mutation: flip, delete or insert characters
        const chars = [...good];
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
          const at = Math.floor(rnd() * chars.length);
          const op = rnd();
          if (op < 0.33) { chars.splice(at, 1); } else if (op < 0.66) { chars[at] = String.fromCharCode(Math.floor(rnd() * 128)); } else { chars.splice(at, 0, inputs[Math.floor(rnd() * 200)] ?? ''); }
        }
        text = chars.join('');
      } else {
        // structural mutation: a hostile value in a random field
        const doc = JSON.parse(good) as { nodes: Record<string, unknown>[] } & Record<string, unknown>;
        const node = doc.nodes[Math.floor(rnd() * 2)]!;
        const field = ['name', 'host', 'port', 'user', 'auth', 'keyFile', 'hostKeyFingerprints', 'docker', 'sudo', 'password', '__proto__', 'constructor'][Math.floor(rnd() * 12)]!;
        const s = inputs[Math.floor(rnd() * inputs.length)]!;
        const v = rnd() < 0.7 ? s : rnd() < 0.5 ? [s] : { transport: s };
        if (field === '__proto__') { text = good.replace('"name":"docker-node2"', `"__proto__":${JSON.stringify({ polluted: v })},"name":"docker-node2"`); } else {
          node[field] = v;
          text = JSON.stringify(doc);
        }
      }
      try {
        const f = parseNodesFile(text, 'nodes.json');
        accepted++;
        for (const n of f.nodes) { assert.ok(isInertWord(n.name) && isInertWord(n.host) && isInertWord(n.user), JSON.stringify(n)); }
      } catch (e) {
        assert.ok(isLabError(e, 'InvalidNodesFile') || isLabError(e, 'InvalidSettings'), String(e));
        assert.ok(e.message.includes('nodes.json'), e.message.slice(0, 200));
      }
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
    tally['parseNodesFile'] = { tried: 3000, rejected: 3000 - accepted, accepted };
  });
});
