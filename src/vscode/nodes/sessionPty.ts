import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { createStreamRedactor } from '../../core/logger';
import type { NodeSession } from '../../core/ssh/nodeSession';

/**
 * An integrated terminal over the node's existing SSH session (the one the Lab Nodes view uses): a
 * login shell, or `command` with a pty (e.g. `docker exec -it <id> sh`). No ssh binary is needed and
 * the host key was already verified by the core.
 */
export class SessionPty implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  private channel: ClientChannel | undefined;
  private closed = false;

  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;

  constructor(private readonly session: () => Promise<NodeSession>, private readonly command?: string) {}

  open(dims: vscode.TerminalDimensions | undefined): void {
    const pty = { term: 'xterm-256color', rows: dims?.rows ?? 24, cols: dims?.columns ?? 80 };
    const start = async (): Promise<void> => {
      const client = await (await this.session()).connect();
      const ch = await new Promise<ClientChannel>((resolve, reject) => {
        const cb = (err: Error | undefined, stream: ClientChannel): void => { if (err) { reject(err); } else { resolve(stream); } };
        if (this.command === undefined) { client.shell(pty, cb); } else { client.exec(this.command, { pty }, cb); }
      });
      if (this.closed) { ch.close(); return; }
      this.channel = ch;
      // what the node prints is redacted like any command output (a known secret shows as ***)
      const show = (): { write: (d: Buffer) => void; end: () => void } => {
        const decoder = new StringDecoder('utf8');
        const redactor = createStreamRedactor();
        const fire = (t: string): void => { if (t !== '') { this.writeEmitter.fire(t); } };
        return { write: (d) => { fire(redactor.write(decoder.write(d))); }, end: () => { fire(redactor.write(decoder.end()) + redactor.end()); } };
      };
      const out = show();
      const err = show();
      ch.on('data', (d: Buffer) => { out.write(d); });
      ch.stderr.on('data', (d: Buffer) => { err.write(d); });
      ch.on('exit', (code: number | null) => { out.end(); err.end(); this.finish(typeof code === 'number' ? code : undefined); });
      ch.on('close', () => { out.end(); err.end(); this.finish(undefined); });
    };
    start().catch((e: unknown) => {
      this.writeEmitter.fire(`\r\n${describeError(e).replace(/\n/g, '\r\n')}\r\n`);
      this.finish(1);
    });
  }

  private finish(code: number | undefined): void {
    if (this.closed) { return; }
    this.closed = true;
    this.closeEmitter.fire(code);
  }

  handleInput(data: string): void {
    this.channel?.write(data);
  }

  setDimensions(dims: vscode.TerminalDimensions): void {
    this.channel?.setWindow(dims.rows, dims.columns, 0, 0);
  }

  close(): void {
    this.closed = true;
    this.channel?.close();
    this.channel = undefined;
  }
}
