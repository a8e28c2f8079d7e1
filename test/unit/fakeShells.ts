import type { ExecOptions, ExecResult, RemoteShell, ShellProvider } from '../../src/core/remoteShell';
import { factsCommand } from '../../src/core/lab/labFacts';

/**
 * A FAKE ShellProvider: it stands in for the node states a unit test needs (no SSH, no Docker). Each
 * command goes to a scripted handler, which may throw (a dropped node); output is streamed in the
 * chunks `chunks` splits it into (default: one). The real path is exercised by the live tests in test/lab.
 */
export class FakeShells implements ShellProvider {
  readonly calls: { node: string; command: string; stdin?: string; sudo?: boolean }[] = [];
  constructor(
    private readonly handler: (node: string, command: string) => Partial<ExecResult> | Promise<Partial<ExecResult>>,
    private readonly chunks: (text: string) => string[] = (t) => [t],
  ) {}
  nodeNames(): readonly string[] { return ['docker-node1', 'docker-node2']; }
  shell(node: string): Promise<RemoteShell> {
    return Promise.resolve({
      node,
      exec: async (command: string, opts: ExecOptions = {}): Promise<ExecResult> => {
        if (command !== factsCommand) { this.calls.push({ node, command, ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }), ...(opts.sudo === true ? { sudo: true } : {}) }); }
        const r = await this.handler(node, command);
        if (opts.signal?.aborted === true) { throw Object.assign(new Error('aborted'), { code: 'Cancelled' }); }
        const res: ExecResult = { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
        if (res.stdout !== '') { for (const c of this.chunks(res.stdout)) { opts.onStdout?.(c); } }
        if (res.stderr !== '') { for (const c of this.chunks(res.stderr)) { opts.onStderr?.(c); } }
        return res;
      },
    });
  }
  /** The commands run with `sudo` (as root) on `node` (every node when not given). */
  sudoCommands(node?: string): string[] { return this.calls.filter((c) => c.sudo === true && (node === undefined || c.node === node)).map((c) => c.command); }
  commands(node?: string): string[] { return this.calls.filter((c) => node === undefined || c.node === node).map((c) => c.command); }
}

/** The facts script's answer for a lab node (Debian 12, lab dockerd on node1 only unless told). */
export function factsText(node: string, docker: string, labDockerd: boolean): string {
  const ip = node === 'docker-node1' ? '10.99.0.11' : '10.99.0.12';
  return [`hostname=${node}`, `docker=${docker}`, 'etcd=3.4.23', 'kernel=6.1.0-28-amd64', `labDockerd=${labDockerd ? 'yes' : 'no'}`,
    'firewall=none', 'swarm=inactive', 'clusterStore=', `ips=${ip}`, '--- os-release', 'ID=debian', 'VERSION_ID="12"', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'].join('\n');
}
