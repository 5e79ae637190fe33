/**
 * Every error the harness raises on purpose, in one place. Each kind has a stable `code` that tests and
 * callers match on (never the message text), and its message is built by `explain`: why first, then the
 * command that was run, then the evidence (QEMU's stderr, the serial console, the listing seen).
 */

export type ErrorCode =
  /** A scenario file (or the CI matrix file) says something the harness cannot run. */
  | 'SCENARIO_INVALID'
  /** QEMU refused its configuration or exited before the guest was up. */
  | 'QEMU_REFUSED'
  /** The guest did not come up: a panic, init failing, or sshd not answering by the deadline. */
  | 'GUEST_DOWN'
  /** A check of a scenario step did not hold. */
  | 'CHECK_FAILED'
  /** A command the harness ran in a guest failed for a reason that is not the checked behaviour. */
  | 'GUEST_COMMAND'
  /** The machine lacks something the harness needs, or a setting is invalid. */
  | 'ENVIRONMENT';

export interface Explanation {
  why: string;
  /** The command that was run, as a person would paste it into a shell. */
  command?: string;
  /** What was seen: labelled blocks of text, printed in order. */
  evidence?: [label: string, text: string][];
}

/** The one message builder: why, then the command, then each piece of evidence under its label. */
function explain({ why, command, evidence = [] }: Explanation): string {
  const lines = [why];
  if (command) lines.push(`command: ${command}`);
  for (const [label, text] of evidence) lines.push(`--- ${label} ---`, text.trim() || '(nothing)');
  return lines.join('\n');
}

export class HarnessError extends Error {
  /**
   * The build or kernel under test could not be tested at all (missing, crashed, never reached the guest's
   * init), rather than showing a behaviour: `run --bisect` exits 125 for it, so `git bisect run` skips it.
   */
  untestable = false;
  constructor(
    readonly code: ErrorCode,
    message: string | Explanation,
  ) {
    super(typeof message === 'string' ? message : explain(message));
    this.name = new.target.name;
  }
}

export class EnvironmentError extends HarnessError {
  constructor(message: string | Explanation) {
    super('ENVIRONMENT', message);
    this.untestable = true;
  }
}

export class GuestCommandError extends HarnessError {
  constructor(message: string | Explanation) {
    super('GUEST_COMMAND', message);
  }
}

/**
 * A check that did not hold. `expected` and `actual` are kept as values so that vitest's reporters print a
 * diff between them; the message says the same in words.
 */
export class CheckFailure extends HarnessError {
  readonly showDiff = true;
  constructor(
    message: string | Explanation,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super('CHECK_FAILED', message);
  }
}

/**
 * The guest did not come up; `excerpt` is the part of its serial console that shows why. `beforeInit`: its
 * kernel never started the image's init (a panic or hang in the kernel or firmware under test).
 */
export class GuestDownError extends HarnessError {
  constructor(
    why: string,
    readonly excerpt: string,
    beforeInit = false,
  ) {
    super('GUEST_DOWN', { why, evidence: [['serial console', excerpt]] });
    this.untestable = beforeInit;
  }
}

/** QEMU's exit as the harness saw it. */
export interface QemuExit {
  code: number | undefined;
  signal: string | undefined;
  stderr: string;
}

/** QEMU refused to start, or exited before the guest was up: its own words and exit status. */
export class QemuRefusedError extends HarnessError {
  constructor(
    readonly exit: QemuExit,
    readonly commandLine: string,
    serial: string,
  ) {
    super('QEMU_REFUSED', {
      why: `QEMU exited with ${exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`} before the guest was up`,
      command: commandLine,
      evidence: [
        ['QEMU stderr', exit.stderr],
        ['serial console', serial],
      ],
    });
    // Killed by a signal (a crash, an abort) rather than exiting with its own refusal.
    this.untestable = exit.signal !== undefined;
  }
}
