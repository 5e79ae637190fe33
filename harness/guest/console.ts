import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** Serial console lines that mean the guest is lost: waiting on for SSH would only delay the failure. */
const FATAL = [/Kernel panic - not syncing/, /^NVH-FAIL /, /Attempted to kill init/];

/**
 * The guest's serial console: every line goes to the log file and is matched against the waiters, so that
 * a boot marker or a panic is seen the moment it is printed.
 */
export class SerialConsole {
  readonly lines: string[] = [];
  private partial = '';
  private readonly log: WriteStream;
  private waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  private fatalListeners: ((line: string) => void)[] = [];

  constructor(stream: Readable, logFile: string) {
    this.log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.receive(chunk));
  }

  /** Resolves with the first line from line number `from` on, past or future, that matches. */
  waitFor(re: RegExp, from = 0): Promise<RegExpExecArray> {
    for (const line of this.lines.slice(from)) {
      const m = re.exec(line);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  /** Resolves with the first fatal line (a kernel panic, an init failure) from line number `from` on. */
  fatal(from = 0): Promise<string> {
    const seen = this.lines.slice(from).find((l) => FATAL.some((re) => re.test(l)));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.fatalListeners.push(resolve));
  }

  /** The lines around the first line matching `re` (or the last lines), for failure reports. */
  excerpt(re?: RegExp, before = 20, after = 30): string {
    const i = re ? this.lines.findIndex((l) => re.test(l)) : -1;
    const slice = i >= 0 ? this.lines.slice(Math.max(0, i - before), i + after) : this.lines.slice(-before);
    const text = slice.join('\n') + (this.partial && i < 0 ? `\n${this.partial}` : '');
    return text.trim() || '(the guest printed nothing on its serial console)';
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.log.end(resolve));
  }

  private receive(chunk: string): void {
    this.log.write(chunk);
    const parts = (this.partial + chunk).replace(/\r/g, '').split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        const m = w.re.exec(line);
        if (m) w.resolve(m);
        return !m;
      });
      if (FATAL.some((re) => re.test(line))) for (const f of this.fatalListeners.splice(0)) f(line);
    }
  }
}
