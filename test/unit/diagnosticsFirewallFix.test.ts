import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixPlan } from '../../src/core/diagnostics/fixPlan';
import { iptablesDeleteCommand, parseIptablesRule, splitIptablesWords } from '../../src/core/diagnostics/iptablesRule';
import { parseFirewall } from '../../src/core/diagnostics/nodeFacts';
import { checkFirewall } from '../../src/core/diagnostics/stateChecks';

// The firewall fix deletes blocking rules by their exact spec, parsed in TypeScript; nothing iptables
// printed is evaluated by a shell. The round trip runs against a real iptables in a private network
// namespace (unshare -n, gone with its process) when this runs as root.

describe('firewall fix: exact rule specs, no eval', () => {
  it('splits iptables -S words the way iptables quotes them', () => {
    assert.deepEqual(splitIptablesWords('-A INPUT -m comment --comment "$(touch /tmp/c) \\"q\\" \\\\ x" -j DROP'),
      ['-A', 'INPUT', '-m', 'comment', '--comment', '$(touch /tmp/c) "q" \\ x', '-j', 'DROP']);
    assert.equal(splitIptablesWords('-A INPUT --comment "open'), undefined);
  });

  it('deletes a rule with a hostile comment by its spec, the comment one quoted word', () => {
    const line = '-A INPUT -p tcp -m tcp --dport 2375 -m comment --comment "$(touch /tmp/canary)" -j DROP';
    const rule = parseIptablesRule(line);
    assert.ok(rule.ok);
    assert.equal(iptablesDeleteCommand(rule), "iptables -D INPUT -p tcp -m tcp --dport 2375 -m comment --comment '$(touch /tmp/canary)' -j DROP");
    const [f] = checkFirewall({ name: 'n', firewall: parseFirewall('', '', `-P INPUT ACCEPT\n${line}`) });
    const plan = f === undefined ? undefined : fixPlan(f);
    assert.equal(plan?.kind, 'commands');
    assert.ok(plan?.kind === 'commands' && !plan.commands.some((c) => /\beval\b|sed |while read/.test(c)), JSON.stringify(plan));
    assert.equal(f?.fix, plan?.kind === 'commands' ? plan.commands.join('\n') : '', 'the fix shown is the fix that runs');
  });

  it('refuses rules it cannot read exactly (unknown options, control characters): the fix is not available, with the reason', () => {
    for (const line of [
      '-A INPUT -p tcp --dport 2375 -m set --match-set evil src -j DROP',
      '-A INPUT -p tcp --dport 2375 -m comment --comment "a\x1b[2Kb" -j DROP',
      '-A INPUT -p tcp --dport 2375;touch -j DROP',
    ]) {
      const [f] = checkFirewall({ name: 'n', firewall: parseFirewall('', '', `-P INPUT ACCEPT\n${line}`) });
      assert.ok(f !== undefined, line);
      const plan = fixPlan(f);
      assert.equal(plan.kind, 'none', line);
      assert.match(plan.kind === 'none' ? plan.reason : '', /cannot be deleted by the fix/);
    }
  });

  describe('round trip through a real iptables (private network namespace)', () => {
    const why = process.getuid?.() !== 0 ? 'needs root (unshare -n)'
      : spawnSync('sh', ['-c', 'command -v unshare && command -v nsenter && command -v iptables']).status !== 0 ? 'needs unshare, nsenter and iptables' : undefined;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-fw-'));
    const canary = path.join(work, 'canary');
    let holder: ChildProcess | undefined;
    const inNs = (cmd: string): { code: number | null; out: string; err: string } => {
      const r = spawnSync('nsenter', ['-t', String(holder?.pid), '-n', 'sh', '-c', cmd], { encoding: 'utf8', timeout: 20_000 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    before(async () => {
      if (why !== undefined) { return; }
      holder = spawn('unshare', ['-n', '--', 'sleep', '300'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
    });
    after(() => {
      if (holder?.pid !== undefined) { process.kill(holder.pid, 'SIGTERM'); }
      fs.rmSync(work, { recursive: true, force: true });
    });

    it('a DROP with a $(…) comment is detected, deleted exactly, the port opened, and the comment never runs', { skip: why }, () => {
      const comment = `$(touch ${canary}) \`touch ${canary}\` "q" \\ ;touch ${canary}`;
      const add = inNs(`iptables -A INPUT -p tcp -m tcp --dport 2379 -m comment --comment '${comment.replace(/'/g, `'\\''`)}' -j DROP && iptables -A INPUT -p tcp --dport 22 -j ACCEPT`);
      assert.equal(add.code, 0, add.err);
      const before = inNs('iptables -S INPUT').out;
      const [f] = checkFirewall({ name: 'ns', firewall: parseFirewall('', '', before) });
      assert.deepEqual(f?.facts['ports'], '2379/tcp');
      const plan = f === undefined ? undefined : fixPlan(f);
      assert.equal(plan?.kind, 'commands', JSON.stringify(plan));
      for (const c of plan?.kind === 'commands' ? plan.commands : []) {
        const r = inNs(c);
        assert.equal(r.code, 0, `${c}: ${r.err}`);
      }
      const after = inNs('iptables -S INPUT').out;
      assert.ok(!fs.existsSync(canary), 'the comment ran');
      assert.doesNotMatch(after, /--dport 2379 .*-j DROP/, after);
      assert.match(after, /-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT/, 'other rules stay');
      assert.deepEqual(parseFirewall('', '', after).blockedPorts, []);
    });
  });
});
