import { createConnection, type Socket } from 'node:net';
import { HarnessError } from '../errors.js';

/** An error QEMU returned to a QMP command, worded as QEMU worded it. */
export class QmpError extends HarnessError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super('QEMU_REFUSED', `QMP ${command} failed: ${desc} (${errorClass})`);
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * A QMP client on QEMU's unix socket: one command at a time in order, replies matched by `id`, events and
 * every exchange kept in a transcript for the failure report.
 */
export class Qmp {
  readonly transcript: string[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = '';
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('close', () => this.fail(new Error('QMP connection closed (QEMU exited)')));
    socket.on('error', (e) => this.fail(e));
  }

  static async connect(path: string): Promise<Qmp> {
    const socket = createConnection(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const qmp = new Qmp(socket);
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    const line = JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id });
    this.transcript.push(`-> ${line}`);
    this.socket.write(`${line}\n`);
    return new Promise<T>((resolve, reject) => this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Runs a human monitor (HMP) command, as typed at the `(qemu)` prompt; QEMU's reply text is returned. */
  hmp(commandLine: string): Promise<string> {
    return this.execute<string>('human-monitor-command', { 'command-line': commandLine });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      this.transcript.push(`<- ${line}`);
      const msg = JSON.parse(line) as { id?: number; return?: unknown; error?: { class: string; desc: string } };
      // The greeting and events answer no command.
      if (!('return' in msg) && !('error' in msg)) continue;
      const id = msg.id ?? Math.min(...this.pending.keys());
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (msg.error) p.reject(new QmpError(p.command, msg.error.class, msg.error.desc));
      else p.resolve(msg.return);
    }
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
