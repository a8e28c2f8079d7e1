import { hasUnsafeDisplayChars } from '../util/displayText';
import type { Finding } from './ruleTypes';

/**
 * How a finding's fix can be applied without a human in the loop:
 * - `commands`: shell lines to run, in order, as root on the finding's node (stop at the first failure);
 * - `step`: run the named guided-lab step (`docker-net-lab run <stepId>`);
 * - `none`: the fix needs a choice (the reason says which); show the fix text instead.
 */
export type FixPlan =
  | { readonly kind: 'commands'; readonly commands: readonly string[]; readonly destructive: boolean }
  | { readonly kind: 'step'; readonly stepId: string; readonly destructive: boolean }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * Restarts the node's etcd member with the v2 API: a systemd unit gets a drop-in setting
 * ETCD_ENABLE_V2; an etcd started by hand (as in the local lab) is restarted with its own command
 * line plus `--enable-v2`. Then waits up to 10 s until /v2/keys answers.
 */
const enableEtcdV2: readonly string[] = [
  'if systemctl is-active --quiet etcd 2>/dev/null; then mkdir -p /etc/systemd/system/etcd.service.d && printf \'[Service]\\nEnvironment=ETCD_ENABLE_V2=true\\n\' > /etc/systemd/system/etcd.service.d/enable-v2.conf && systemctl daemon-reload && systemctl restart etcd; '
  + 'else pid=$(ss -ltnpH \'sport = :2379\' | grep -o \'pid=[0-9]*\' | head -n 1 | cut -d= -f2); [ -n "$pid" ] || { echo \'no etcd listens on port 2379 here\' >&2; exit 1; }; '
  + 'exe=$(readlink /proc/$pid/exe); args=$(tr \'\\0\' \'\\n\' < /proc/$pid/cmdline | tail -n +2 | grep -v \'^--enable-v2\' | tr \'\\n\' \' \'); '
  + 'kill $pid; for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done; '
  + 'setsid nohup $exe $args --enable-v2 >/dev/null 2>&1 < /dev/null & echo "etcd restarted with --enable-v2 (pid $!)"; fi',
  'for i in $(seq 50); do curl -fsS -m 1 -o /dev/null http://127.0.0.1:2379/v2/keys/ && exit 0; sleep 0.2; done; echo \'etcd does not serve /v2/keys\' >&2; exit 1',
];

/** Fix actions that are not step ids, as command lists run on the finding's node. */
export const fixActionCommands: Readonly<Record<string, readonly string[]>> = {
  'etcd.enableV2': enableEtcdV2,
};

/** Fix actions that name a guided-lab step under another id. */
export const fixActionSteps: Readonly<Record<string, string>> = {
  'firewall.openLabPorts': 'ch4-firewall',
  'swarm.switchToSwarm': 'ch4-swarm-init',
};

/** An angle-bracket placeholder left unfilled (`<container>`, `<host-port>`): the fix is not complete. */
const unfilled = /<[a-z][a-z-]*>/;

/**
 * Works out how to apply `finding`'s fix. A fix whose facts were refused (`fixRefused`) is not
 * available, with that reason. Machine-applicable commands win over a fix action; a fix
 * action naming one of `stepIds` becomes a step plan; `etcd.enableV2` becomes its commands. A command
 * holding a control or bidi character is never planned (what is shown must be what runs). Never throws.
 */
export function fixPlan(finding: Pick<Finding, 'fixCommands' | 'fixAction' | 'destructive' | 'fixRefused'>, stepIds: ReadonlySet<string> = new Set()): FixPlan {
  const destructive = finding.destructive;
  if (finding.fixRefused !== undefined) { return { kind: 'none', reason: `the fix is not available: ${finding.fixRefused}` }; }
  if (finding.fixCommands !== undefined && finding.fixCommands.length > 0) {
    if (finding.fixCommands.some(hasUnsafeDisplayChars)) {
      return { kind: 'none', reason: 'the fix is not available: a command holds a control or bidi character, which would show differently than it runs' };
    }
    const missing = finding.fixCommands.find((c) => unfilled.test(c));
    if (missing === undefined) { return { kind: 'commands', commands: finding.fixCommands, destructive }; }
    if (finding.fixAction === undefined) {
      return { kind: 'none', reason: `the fix needs a value the message does not give: ${unfilled.exec(missing)?.[0] ?? missing}` };
    }
  }
  const action = finding.fixAction;
  if (action === undefined) { return { kind: 'none', reason: 'the fix needs a choice: read it and run what fits' }; }
  const commands = fixActionCommands[action];
  if (commands !== undefined) { return { kind: 'commands', commands, destructive }; }
  const stepId = fixActionSteps[action] ?? action;
  if (stepIds.has(stepId)) { return { kind: 'step', stepId, destructive }; }
  return { kind: 'none', reason: `the fix action ${action} is not available here` };
}
