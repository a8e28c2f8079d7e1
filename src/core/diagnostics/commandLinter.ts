import { coerce, gte, lt } from 'semver';
import type { Severity } from './ruleTypes';
import { splitCommands } from './shellWords';
import type { SimpleCommand, SourceLine, Word } from './shellWords';

/** What kind of file is linted: where the commands are. */
export type LintFileKind = 'shell' | 'markdown' | 'dockerfile';

/** A text replacement on one line. Lines and columns are 1-based; `endColumn` is exclusive. */
export interface LintEdit {
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  readonly newText: string;
}

/** One linter finding. Lines and columns are 1-based; `endColumn` is exclusive (on `endLine`). */
export interface LintFinding {
  /** Stable rule id (`lint-…`). */
  readonly ruleId: string;
  /** One or two sentences for the user. */
  readonly message: string;
  /** How bad it is. */
  readonly severity: Severity;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** A certain quick fix, when there is one: its title and edits. */
  readonly quickFix?: { readonly title: string; readonly edits: readonly LintEdit[] };
  /** The runtime rule (see rules.ts) for the error this line produces when run, if any. */
  readonly relatedRuleId?: string;
}

/** Lint rule → the runtime rule of the message the command produces when it is run anyway. */
export const lintRelatedRules: Readonly<Record<string, string>> = {
  'lint-single-dash-long-flag': 'unknown-shorthand-flag-net',
  'lint-publish-with-host-network': 'host-network-published-ports-discarded',
  'lint-link-default-bridge': 'link-default-bridge-deprecated',
  'lint-cluster-store-modern-docker': 'cluster-store-unknown-flag-24',
  'lint-cluster-store-deprecated': 'cluster-store-deprecated-20-10',
  'lint-cluster-advertise-without-store': 'cluster-advertise-without-store',
  'lint-etcdctl-v2-command': 'etcdctl-v3-unknown-command-cluster-health',
  'lint-etcdctl-v3-command': 'etcdctl-v2-no-help-topic',
  'lint-docker-daemon-removed': 'docker-daemon-subcommand-removed',
  'lint-duplicate-container-name': 'container-name-conflict',
  'lint-overlay-not-attachable': 'swarm-network-not-attachable',
  'lint-etcd-without-enable-v2': 'etcd-v2-api-404',
  'lint-tty-in-script': 'input-device-not-tty',
  'lint-stop-firewalld': 'etcd-member-unreachable-no-route-to-host',
};

/** Options of {@link lintText}. */
export interface LintOptions {
  /** The file kind; guessed from `fileName` when missing (shell by default). */
  readonly kind?: LintFileKind;
  /** Used to guess the kind. */
  readonly fileName?: string;
  /** Docker server version of the node the commands are for, when known. */
  readonly dockerVersion?: string;
  /** etcd version of the node, when known. */
  readonly etcdVersion?: string;
}

/** Guesses the file kind from its name: Markdown, Dockerfile, else shell. */
export function lintKindForFile(fileName: string): LintFileKind {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  if (/\.(md|markdown)$/i.test(base)) { return 'markdown'; }
  if (/^(Dockerfile|Containerfile)(\..*)?$/i.test(base) || /\.dockerfile$/i.test(base)) { return 'dockerfile'; }
  return 'shell';
}

/** Long docker/dockerd options that learners type with one dash. */
const longOptionNames = new Set([
  'net', 'network', 'name', 'link', 'rm', 'publish', 'publish-all', 'detach', 'env', 'volume', 'interactive', 'tty', 'hostname',
  'restart', 'label', 'driver', 'subnet', 'gateway', 'attachable', 'opt', 'format', 'filter', 'all', 'force', 'quiet',
  'cluster-store', 'cluster-advertise', 'host', 'ip', 'mount', 'workdir', 'user', 'entrypoint', 'expose', 'privileged',
  'cap-add', 'dns', 'memory', 'env-file', 'network-alias', 'add-host', 'tls', 'debug', 'scope', 'ingress', 'internal',
  'volumes-from', 'advertise-addr', 'listen-addr', 'token', 'tag', 'file', 'build-arg', 'no-cache',
]);

/** docker run/create options that take a value (so the next word is not the image). */
const runValueOptions = new Set([
  '-e', '--env', '-p', '--publish', '--name', '--net', '--network', '-v', '--volume', '--link', '-h', '--hostname', '-w', '--workdir',
  '-u', '--user', '--entrypoint', '-l', '--label', '--restart', '--ip', '--ip6', '--mount', '--add-host', '--dns', '--dns-search', '--env-file',
  '--log-driver', '--log-opt', '--cpus', '-m', '--memory', '--cap-add', '--cap-drop', '--device', '--expose', '--network-alias',
  '--net-alias', '--cgroup-parent', '--platform', '--pull', '--stop-signal', '--ulimit', '--tmpfs', '--security-opt', '--sysctl',
  '--health-cmd', '--mac-address', '--pid', '--ipc', '--uts', '--runtime', '--shm-size', '--volumes-from', '--label-file', '--cidfile',
  '--stop-timeout', '--userns', '--gpus', '--memory-swap', '--cpu-shares', '-c', '--attach', '-a', '--detach-keys',
]);
const execValueOptions = new Set(['-e', '--env', '-u', '--user', '-w', '--workdir', '--env-file', '--detach-keys']);
const dockerGlobalValueOptions = new Set(['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey']);
const etcdctlV2Only = new Set(['cluster-health', 'ls', 'mk', 'mkdir', 'rm', 'rmdir', 'set', 'setdir', 'update', 'updatedir', 'exec-watch', 'backup']);
const etcdctlV3Only = new Set(['put', 'del', 'endpoint', 'txn', 'lease', 'compaction', 'defrag', 'snapshot', 'move-leader', 'elect', 'lock']);

interface ParsedDocker {
  /** `docker`/`dockerd` word. */
  readonly program: Word;
  /** Sub-command words (`run`; `network`,`create`; `container`,`run`). */
  readonly sub: readonly Word[];
  /** Option words (and their values) before the image/container; for other sub-commands every word after `sub`. */
  readonly options: readonly Word[];
  /** The image (run/create) or container (exec), when found. */
  readonly target?: Word;
  /** Words after the target. */
  readonly rest: readonly Word[];
}

interface Prefix { readonly env: ReadonlyMap<string, string>; readonly body: readonly Word[] }

function stripPrefix(cmd: SimpleCommand): Prefix {
  const env = new Map<string, string>();
  let i = 0;
  for (; i < cmd.length; i++) {
    const w = cmd[i];
    if (w === undefined) { break; }
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w.text);
    if (assign?.[1] !== undefined) { env.set(assign[1], assign[2] ?? ''); continue; }
    if (w.text === 'sudo' || w.text === 'time' || w.text === 'exec' || w.text === 'env' || w.text === 'nohup') { continue; }
    if (i > 0 && cmd[i - 1]?.text === 'sudo' && w.text.startsWith('-')) { continue; }
    break;
  }
  return { env, body: cmd.slice(i) };
}

function isDockerProgram(text: string): boolean {
  return /^(?:\S*\/)?docker$/.test(text);
}

function isDockerdProgram(text: string): boolean {
  return /^(?:\S*\/)?dockerd$/.test(text);
}

function parseDocker(body: readonly Word[]): ParsedDocker | undefined {
  const program = body[0];
  if (program === undefined) { return undefined; }
  if (isDockerdProgram(program.text)) { return { program, sub: [], options: body.slice(1), rest: [] }; }
  if (!isDockerProgram(program.text)) { return undefined; }
  let i = 1;
  while (i < body.length) {
    const w = body[i];
    if (w === undefined || !w.text.startsWith('-')) { break; }
    i += dockerGlobalValueOptions.has(w.text) ? 2 : 1;
  }
  const sub: Word[] = [];
  const first = body[i];
  if (first === undefined) { return { program, sub, options: [], rest: [] }; }
  sub.push(first);
  i++;
  const groups = new Set(['container', 'network', 'image', 'swarm', 'node', 'service', 'volume', 'system']);
  if (groups.has(first.text) && body[i] !== undefined && !(body[i]?.text.startsWith('-') ?? true)) {
    sub.push(body[i] as Word);
    i++;
  }
  const verb = sub[sub.length - 1]?.text ?? '';
  const isRun = (verb === 'run' || verb === 'create') && (sub.length === 1 || sub[0]?.text === 'container');
  const isExec = verb === 'exec' && (sub.length === 1 || sub[0]?.text === 'container');
  if (!isRun && !isExec) { return { program, sub, options: body.slice(i), rest: [] }; }
  const valueOptions = isRun ? runValueOptions : execValueOptions;
  const options: Word[] = [];
  while (i < body.length) {
    const w = body[i] as Word;
    if (!w.text.startsWith('-') || w.text === '-') { break; }
    options.push(w);
    const name = w.text.includes('=') ? '' : w.text;
    const typo = /^-[a-z][a-z-]+$/.test(name) && longOptionNames.has(name.slice(1)) ? `-${name}` : name;
    if (valueOptions.has(name) || valueOptions.has(typo)) {
      const v = body[i + 1];
      if (v !== undefined) { options.push(v); }
      i += 2;
    } else {
      i++;
    }
  }
  const target = body[i];
  return { program, sub, options, ...(target === undefined ? {} : { target }), rest: body.slice(i + 1) };
}

function optionValue(options: readonly Word[], names: readonly string[]): string | undefined {
  for (let i = 0; i < options.length; i++) {
    const t = options[i]?.text ?? '';
    for (const n of names) {
      if (t === n) { return options[i + 1]?.text; }
      if (t.startsWith(`${n}=`)) { return t.slice(n.length + 1); }
    }
  }
  return undefined;
}

function hasOption(options: readonly Word[], names: readonly string[]): Word | undefined {
  return options.find((w) => names.some((n) => w.text === n || w.text.startsWith(`${n}=`)));
}

function rangeOf(a: Word, b: Word = a): Pick<LintFinding, 'line' | 'column' | 'endLine' | 'endColumn'> {
  return { line: a.line, column: a.column, endLine: b.endLine, endColumn: b.endColumn };
}

/** Extracts the lines that hold commands, per file kind. */
export function commandLines(text: string, kind: LintFileKind): SourceLine[] {
  const lines = text.split('\n');
  const out: SourceLine[] = [];
  if (kind === 'shell') {
    lines.forEach((t, i) => out.push({ text: t, line: i + 1 }));
    return out;
  }
  if (kind === 'dockerfile') {
    let inRun = false;
    lines.forEach((t, i) => {
      if (!inRun) {
        const m = /^(\s*RUN\s+)(?!\[)(.*)$/i.exec(t);
        if (m === null) { return; }
        out.push({ text: m[2] ?? '', line: i + 1, columnOffset: (m[1] ?? '').length });
        inRun = /\\\s*$/.test(t);
        return;
      }
      out.push({ text: t, line: i + 1 });
      inRun = /\\\s*$/.test(t);
    });
    return out;
  }
  // Markdown: fenced code blocks whose language is a shell (or unspecified); prompts are stripped.
  const shellLangs = new Set(['', 'sh', 'bash', 'shell', 'zsh', 'console', 'shell-session', 'shellsession', 'terminal', 'text']);
  let fence: string | undefined;
  let lang = '';
  let continuing = false;
  lines.forEach((t, i) => {
    const f = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(t);
    if (fence === undefined) {
      if (f !== null) { fence = f[1]; lang = (f[2] ?? '').toLowerCase(); continuing = false; }
      return;
    }
    if (f !== null && f[1] !== undefined && fence !== undefined && f[1].startsWith(fence.charAt(0)) && t.trim().startsWith(fence)) { fence = undefined; return; }
    if (!shellLangs.has(lang)) { return; }
    const prompt = /^(\s*(?:\[[^\]]*\][#$]|[\w@.~:-]*[$#]|>)\s+)/.exec(t);
    const isConsole = lang === 'console' || lang === 'shell-session' || lang === 'shellsession' || lang === 'terminal';
    if (prompt !== null && prompt[1] !== undefined && (isConsole || /^\s*\$\s/.test(t))) {
      out.push({ text: t.slice(prompt[1].length), line: i + 1, columnOffset: prompt[1].length });
    } else if (!isConsole || continuing) {
      out.push({ text: t, line: i + 1 });
    }
    continuing = /\\\s*$/.test(t);
  });
  return out;
}

/**
 * Lints the docker, dockerd, etcd and etcdctl command lines of a shell script, a Markdown file's
 * fenced shell blocks, or a Dockerfile's RUN instructions. Pure; never throws.
 */
export function lintText(text: string, options: LintOptions = {}): LintFinding[] {
  const kind = options.kind ?? (options.fileName === undefined ? 'shell' : lintKindForFile(options.fileName));
  const commands = splitCommands(commandLines(text, kind));
  const out: LintFinding[] = [];
  const dockerVersion = coerce(options.dockerVersion ?? '');
  const etcdVersion = coerce(options.etcdVersion ?? '');
  const fileText = text;
  const usesClusterStore = /--cluster-store/.test(fileText);
  let exportedEtcdApi: string | undefined;
  let swarmSeen = false;
  /** container name → the run that created it (not removed since). */
  const running = new Map<string, Word>();

  for (const cmd of commands) {
    const { env, body } = stripPrefix(cmd);
    const program = body[0];
    if (program === undefined) {
      const api = env.get('ETCDCTL_API');
      if (api !== undefined) { exportedEtcdApi = api; }
      continue;
    }
    if (program.text === 'export') {
      for (const w of body.slice(1)) { const m = /^ETCDCTL_API=(\d)$/.exec(w.text); if (m?.[1] !== undefined) { exportedEtcdApi = m[1]; } }
      continue;
    }
    if (program.text === 'systemctl' && /^(stop|disable)$/.test(body[1]?.text ?? '') && body.slice(2).some((w) => /^firewalld(\.service)?$/.test(w.text))) {
      out.push({ ruleId: 'lint-stop-firewalld', severity: 'info', ...rangeOf(program, body[body.length - 1]),
        message: 'Stopping the firewall opens every port. Opening only the lab ports is enough: sudo firewall-cmd --permanent --add-port=2379-2380/tcp --add-port=2375/tcp --add-port=7946/tcp --add-port=7946/udp --add-port=4789/udp && sudo firewall-cmd --reload' });
      continue;
    }
    if (/^(?:\S*\/)?etcdctl$/.test(program.text)) {
      lintEtcdctl(program, body, env.get('ETCDCTL_API') ?? exportedEtcdApi, etcdVersion, out);
      continue;
    }
    if (/^(?:\S*\/)?etcd$/.test(program.text) && body.some((w) => w.text.startsWith('--initial-cluster') || w.text.startsWith('-initial-cluster'))) {
      const hasV2 = body.some((w) => /^--?enable-v2(=true)?$/.test(w.text));
      const needsV2 = usesClusterStore && (etcdVersion === null || (gte(etcdVersion, '3.4.0') && lt(etcdVersion, '3.6.0')));
      if (!hasV2 && needsV2) {
        out.push({ ruleId: 'lint-etcd-without-enable-v2', severity: 'warning', ...rangeOf(program),
          message: 'etcd 3.4 and 3.5 serve the v2 API that Docker\'s --cluster-store needs only with --enable-v2 (etcd 3.6 has no v2 at all; 3.3 and older need nothing).',
          quickFix: { title: 'Add --enable-v2=true', edits: [{ line: program.endLine, column: program.endColumn, endColumn: program.endColumn, newText: ' --enable-v2=true' }] } });
      }
      continue;
    }
    const d = parseDocker(body);
    if (d === undefined) { continue; }
    lintDocker(d, { dockerVersion, swarmSeen, running, kind }, out);
    const verb = d.sub.map((w) => w.text).join(' ');
    if (verb === 'swarm init' || verb === 'swarm join') { swarmSeen = true; }
  }
  return out
    .map((f) => { const related = lintRelatedRules[f.ruleId]; return related === undefined ? f : { ...f, relatedRuleId: related }; })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

function lintEtcdctl(program: Word, body: readonly Word[], api: string | undefined, etcdVersion: ReturnType<typeof coerce>, out: LintFinding[]): void {
  const sub = body.slice(1).find((w) => !w.text.startsWith('-') && !/^https?:/.test(w.text));
  if (sub === undefined) { return; }
  const defaultV3 = etcdVersion === null || gte(etcdVersion, '3.4.0');
  const effective = api ?? (defaultV3 ? '3' : '2');
  if (etcdctlV2Only.has(sub.text) && effective === '3') {
    out.push({ ruleId: 'lint-etcdctl-v2-command', severity: 'warning', ...rangeOf(program, sub),
      message: `\`etcdctl ${sub.text}\` is a v2 command, but etcdctl 3.4 and later speak v3 unless ETCDCTL_API=2 is set${sub.text === 'cluster-health' ? ' (the v3 form is `etcdctl endpoint health`)' : ''}.`,
      ...(api === undefined ? { quickFix: { title: 'Prefix with ETCDCTL_API=2', edits: [{ line: program.line, column: program.column, endColumn: program.column, newText: 'ETCDCTL_API=2 ' }] } } : {}) });
  } else if (etcdctlV3Only.has(sub.text) && effective === '2') {
    out.push({ ruleId: 'lint-etcdctl-v3-command', severity: 'warning', ...rangeOf(program, sub),
      message: `\`etcdctl ${sub.text}\` is a v3 command, but this etcdctl runs with the v2 API (ETCDCTL_API=2, or etcd 3.3 and older).`,
      ...(api === undefined ? { quickFix: { title: 'Prefix with ETCDCTL_API=3', edits: [{ line: program.line, column: program.column, endColumn: program.column, newText: 'ETCDCTL_API=3 ' }] } } : {}) });
  }
}

interface DockerLintState {
  readonly dockerVersion: ReturnType<typeof coerce>;
  readonly swarmSeen: boolean;
  readonly running: Map<string, Word>;
  readonly kind: LintFileKind;
}

function lintDocker(d: ParsedDocker, st: DockerLintState, out: LintFinding[]): void {
  const isDockerd = isDockerdProgram(d.program.text);
  const verb = d.sub.map((w) => w.text).join(' ');
  // `docker daemon` was removed: dockerd.
  if (!isDockerd && verb === 'daemon') {
    const daemon = d.sub[0] as Word;
    out.push({ ruleId: 'lint-docker-daemon-removed', severity: 'error', ...rangeOf(d.program, daemon),
      message: '`docker daemon` was removed in Docker 17; the daemon is started with `dockerd`.',
      ...(d.program.line === daemon.line ? { quickFix: { title: 'Replace with dockerd', edits: [{ line: d.program.line, column: d.program.column, endColumn: daemon.endColumn, newText: 'dockerd' }] } } : {}) });
  }
  // Single-dash long options (-net, -name, …).
  for (const w of d.options) {
    const m = /^-([a-z][a-z-]+)(=.*)?$/s.exec(w.text);
    if (m?.[1] === undefined || !longOptionNames.has(m[1]) || !w.raw.startsWith('-')) { continue; }
    out.push({ ruleId: 'lint-single-dash-long-flag', severity: 'error', ...rangeOf(w),
      message: `\`${w.text.split('=')[0] ?? w.text}\` has one dash: docker reads it as the short flags -${[...m[1]].join(' -')} and fails (unknown shorthand flag). Write \`--${m[1]}\`.`,
      quickFix: { title: `Change to --${m[1]}`, edits: [{ line: w.line, column: w.column, endColumn: w.column, newText: '-' }] } });
  }
  const daemonish = isDockerd || verb === 'daemon';
  if (daemonish) {
    const store = hasOption(d.options, ['--cluster-store']);
    const advertise = hasOption(d.options, ['--cluster-advertise']);
    const flag = store ?? advertise;
    if (flag !== undefined) {
      const v = st.dockerVersion;
      if (v !== null && gte(v, '23.0.0')) {
        out.push({ ruleId: 'lint-cluster-store-modern-docker', severity: 'error', ...rangeOf(flag),
          message: `This node runs Docker ${v.version}: 23.0 refuses --cluster-store/--cluster-advertise and 24.0 and later do not know them. Use Docker 20.10 for this path, or swarm mode with an --attachable overlay.` });
      } else {
        out.push({ ruleId: 'lint-cluster-store-deprecated', severity: 'info', ...rangeOf(flag),
          message: '--cluster-store/--cluster-advertise work up to Docker 20.10 only (deprecated there, refused by 23.0, unknown from 24.0); etcd 3.4+ also needs --enable-v2.' });
      }
    }
    if (advertise !== undefined && store === undefined) {
      out.push({ ruleId: 'lint-cluster-advertise-without-store', severity: 'error', ...rangeOf(advertise),
        message: '--cluster-advertise needs --cluster-store on the same daemon; dockerd refuses to start with only one of them.' });
    }
    return;
  }
  const isRun = /^(container )?(run|create)$/.test(verb);
  if (isRun) {
    const network = optionValue(d.options, ['--net', '--network', '-net', '-network']);
    const publish = hasOption(d.options, ['-p', '--publish', '-P', '--publish-all']);
    if (network === 'host' && publish !== undefined) {
      const idx = d.options.indexOf(publish);
      const takesValue = publish.text === '-p' || publish.text === '--publish';
      const valueWord = takesValue ? d.options[idx + 1] : undefined;
      const next = d.options[idx + (takesValue ? 2 : 1)] ?? d.target;
      const lastWord = valueWord ?? publish;
      const sameLine = next !== undefined && next.line === publish.line && lastWord.line === publish.line;
      out.push({ ruleId: 'lint-publish-with-host-network', severity: 'warning', ...rangeOf(publish, lastWord),
        message: 'With --network host the container uses the host\'s ports directly; -p/-P are ignored ("Published ports are discarded when using host network mode").',
        ...(sameLine && next !== undefined ? { quickFix: { title: 'Remove the port mapping', edits: [{ line: publish.line, column: publish.column, endColumn: next.column, newText: '' }] } } : {}) });
    }
    const link = hasOption(d.options, ['--link', '-link']);
    if (link !== undefined && (network === undefined || network === 'bridge' || network === 'default')) {
      out.push({ ruleId: 'lint-link-default-bridge', severity: 'info', ...rangeOf(link),
        message: '--link on the default bridge is legacy (Docker 29 stopped setting the link environment variables). A user-defined network gives the same name resolution: docker network create appnet; docker run --network appnet …' });
    }
    // Docker options written after the image go to the container's command.
    const afterImage = d.rest[0];
    if (d.target !== undefined && afterImage !== undefined && /^(-p|-d|-it|-e|-v|--name|--net|--network|--rm|--link|--publish|--detach)(=.*)?$/.test(afterImage.text)) {
      out.push({ ruleId: 'lint-option-after-image', severity: 'warning', ...rangeOf(afterImage),
        message: `\`${afterImage.text}\` comes after the image \`${d.target.text}\`, so docker passes it to the container's command instead of using it. Put docker options before the image.` });
    }
    if (st.kind === 'shell') { lintTty(d, out); }
    const name = optionValue(d.options, ['--name', '-name']);
    const rm = hasOption(d.options, ['--rm', '-rm']) !== undefined;
    if (name !== undefined && name !== '') {
      const previous = st.running.get(name);
      const nameWord = hasOption(d.options, ['--name', '-name']) ?? d.program;
      if (previous !== undefined) {
        out.push({ ruleId: 'lint-duplicate-container-name', severity: 'warning', ...rangeOf(nameWord),
          message: `A container named "${name}" was already started on line ${previous.line} and not removed since: on the same node this run fails with "Conflict. The container name "/${name}" is already in use". Add \`docker rm -f ${name}\` before it (or use --rm on the first run).` });
      }
      if (!rm) { st.running.set(name, nameWord); }
    }
    return;
  }
  if (/^(container )?rm$/.test(verb)) {
    for (const w of d.options) { if (!w.text.startsWith('-')) { st.running.delete(w.text); } }
    return;
  }
  if (/^(container )?exec$/.test(verb)) {
    if (st.kind === 'shell') { lintTty(d, out); }
    return;
  }
  if (verb === 'network create' && st.swarmSeen) {
    const driver = optionValue(d.options, ['-d', '--driver']);
    const attachable = hasOption(d.options, ['--attachable']);
    if (driver === 'overlay' && attachable === undefined) {
      const dIdx = d.options.findIndex((w) => w.text === '-d' || w.text === '--driver' || w.text.startsWith('--driver='));
      const anchor = d.options[dIdx]?.text.includes('=') === true ? d.options[dIdx] : d.options[dIdx + 1];
      out.push({ ruleId: 'lint-overlay-not-attachable', severity: 'warning', ...rangeOf(d.sub[0] as Word, anchor ?? d.sub[1]),
        message: 'In swarm mode, `docker run --network` can only use an overlay network created with --attachable.',
        ...(anchor !== undefined ? { quickFix: { title: 'Add --attachable', edits: [{ line: anchor.endLine, column: anchor.endColumn, endColumn: anchor.endColumn, newText: ' --attachable' }] } } : {}) });
    }
  }
}

function lintTty(d: ParsedDocker, out: LintFinding[]): void {
  const tty = d.options.find((w) => (/^-[a-zA-Z]*t[a-zA-Z]*$/.test(w.text) && w.text.includes('i')) || w.text === '--tty');
  const detached = d.options.some((w) => /^-[a-zA-Z]*d[a-zA-Z]*$/.test(w.text) || w.text === '--detach');
  if (tty !== undefined && !detached) {
    out.push({ ruleId: 'lint-tty-in-script', severity: 'info', ...rangeOf(tty),
      message: '`-it` needs a terminal; run from a script, over ssh or by the lab runner it fails with "the input device is not a TTY". Drop -t (and -i) for non-interactive commands.' });
  }
}
