import { fixPlan } from '../../core/diagnostics/fixPlan';
import type { Finding } from '../../core/diagnostics/ruleTypes';
import { describeError } from '../../core/errors';
import { displayText } from '../../core/util/displayText';
import { allSteps } from '../../core/lab/labDefinition';
import type { CliIo } from '../cliIo';
import { cliKnownHostsFiles, cliLogger, envSecretProvider } from './nodes';
import { confirmOnTerminal, openLabSession } from './run';

/** Options of {@link applyFindings}. */
export interface ApplyOptions {
  /** The node given with --node: it wins over the node a finding names (a journal prefix in the log). */
  readonly node?: string | undefined;
  /** Answer every confirmation with yes. */
  readonly yes: boolean;
  /** Nodes file (the local lab's by default). */
  readonly nodes?: string | undefined;
}

/**
 * `diagnose --apply`: applies each finding's machine-applicable fix (commands on its node through SSH,
 * or its fix step through the step runner), then verifies the finding's step and runs it again when
 * the fix cleared its state away (a removed conflicting container). Destructive fixes are
 * confirmed on the terminal unless `yes`. Findings with a prose-only fix are listed, not applied.
 * Every text printed is escaped for the terminal; each command is printed exactly as it runs.
 * Returns the exit code: 0 when every applicable fix ran and its step passed, 1 otherwise.
 */
export async function applyFindings(findings: readonly Finding[], io: CliIo, opts: ApplyOptions): Promise<number> {
  const s = await openLabSession(io, { nodes: opts.nodes, yes: opts.yes });
  const { createShellProvider } = await import('../../core/ssh/sessionPool');
  const shells = createShellProvider(s.nodesFile.nodes, { secrets: envSecretProvider(io.env), knownHostsFiles: cliKnownHostsFiles(io), logger: cliLogger(io), reconnect: false });
  let ok = true;
  try {
    const stepIds = new Set(allSteps(s.lab).map((r) => r.step.id));
    const seen = new Set<string>();
    for (const f of findings) {
      const plan = fixPlan(f, stepIds);
      const node = opts.node ?? f.facts['node'];
      const id = displayText(f.ruleId);
      // the same fix once; every refusal is reported (two hostile lines of one rule are two refusals)
      const what = plan.kind === 'commands' ? plan.commands.join('\n') : plan.kind === 'step' ? plan.stepId : plan.reason;
      const key = `${f.ruleId} ${node ?? ''} ${plan.kind} ${what}`;
      if (seen.has(key)) { continue; }
      seen.add(key);
      if (plan.kind === 'none') { io.out(`[${id}] not applied: ${displayText(plan.reason)}\n`); continue; }
      if (plan.kind === 'step') {
        io.out(`[${id}] fix: run step ${displayText(plan.stepId)}\n`);
        const r = await s.runner.runStep(plan.stepId, { signal: io.signal });
        io.out(displayText(`[${f.ruleId}] step ${plan.stepId}: ${r.status}${r.message === '' ? '' : ` — ${r.message}`}`) + '\n');
        if (r.status !== 'passed') { ok = false; }
        continue;
      }
      if (node === undefined) { io.err(`[${id}] not applied: the finding names no node; give --node NAME\n`); ok = false; continue; }
      const shownNode = displayText(node);
      // fixPlan only plans commands without control characters, so what is shown is what runs
      if (plan.destructive && !await confirmOnTerminal(io, { kind: 'step', title: `Fix for "${displayText(f.title)}" on ${shownNode}: this removes or restarts something.`, commands: plan.commands.map((command) => ({ node: shownNode, command })) }, opts.yes)) {
        io.err(`[${id}] not confirmed: nothing was changed.\n`);
        ok = false;
        continue;
      }
      let failed = false;
      try {
        const shell = await shells.shell(node, io.signal);
        for (const command of plan.commands) {
          io.out(`[${shownNode}]$ ${command}\n`);
          const r = await shell.exec(command, { sudo: true, signal: io.signal, timeoutMs: 120_000 });
          if (r.stdout !== '') { io.out(displayText(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`, { multiline: true })); }
          if (r.stderr !== '') { io.err(displayText(r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`, { multiline: true })); }
          if (r.code !== 0) { io.err(`[${id}] fix command failed (exit ${displayText(String(r.code ?? r.signal ?? '?'))})\n`); failed = true; break; }
        }
      } catch (e) {
        io.err(`[${id}] fix could not run on ${shownNode}: ${displayText(describeError(e))}\n`);
        failed = true;
      }
      if (failed) { ok = false; continue; }
      if (!stepIds.has(f.step)) { io.out(`[${id}] fix applied on ${shownNode}.\n`); continue; }
      // verify first (needs no prerequisites); a step whose state the fix cleared away runs again
      const checked = await s.runner.verifyStep(f.step, { signal: io.signal });
      const v = checked.status === 'passed' || checked.status === 'skipped' ? checked : await s.runner.runStep(f.step, { signal: io.signal });
      io.out(displayText(`[${f.ruleId}] fix applied on ${node}; step ${f.step}: ${v.status}${v.message === '' ? '' : ` — ${v.message}`}`) + '\n');
      if (v.status !== 'passed' && v.status !== 'skipped') { ok = false; }
    }
  } finally {
    shells.dispose();
    s.dispose();
  }
  return ok ? 0 : 1;
}
