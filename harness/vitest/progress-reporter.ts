import type { TestAnnotation, UserConsoleLog } from 'vitest';
import type { TestCase, TestModule } from 'vitest/node';
import { DefaultReporter } from 'vitest/reporters';
import { EVIDENCE_HEADER, SKIP_ANNOTATION } from './project.js';

/**
 * vitest's default reporter plus one line per event, with the time since the run started: each step as it
 * starts and ends ("step 2/7"), and each guest's boot milestones, which scenario steps report as
 * annotations. On a terminal the lines scroll above vitest's live summary; in CI they are the log.
 */
export class ProgressReporter extends DefaultReporter {
  private readonly started = Date.now();

  override onTestCaseReady(test: TestCase): void {
    super.onTestCaseReady(test);
    this.line(`${position(test)} ${test.name}`);
  }

  onTestCaseAnnotate(test: TestCase, annotation: TestAnnotation): void {
    // A skip's reason is printed once, on the step's result line.
    if (annotation.type === SKIP_ANNOTATION) return;
    this.line(`${position(test)}   ${annotation.message}`);
  }

  override onTestCaseResult(test: TestCase): void {
    super.onTestCaseResult(test);
    const result = test.result();
    const icon = result.state === 'passed' ? '✓' : result.state === 'failed' ? '×' : '↓';
    const ms = test.diagnostic()?.duration;
    const note = result.state === 'skipped' && result.note ? ` [${result.note}]` : '';
    this.line(
      `${position(test)} ${icon} ${test.name}${ms !== undefined && result.state !== 'skipped' ? ` (${Math.round(ms)} ms)` : ''}${note}`,
    );
  }

  override onUserConsoleLog(log: UserConsoleLog): void {
    // A failed step's evidence, logged for JUnit's <system-out>: the failure message shows it already.
    if (log.content.startsWith(EVIDENCE_HEADER)) return;
    super.onUserConsoleLog(log);
  }

  override onTestModuleEnd(module: TestModule): void {
    super.onTestModuleEnd(module);
    // A scenario file whose every step was skipped checked nothing: say so, rather than let it look green.
    const tests = [...module.children.allTests()];
    const ran = tests.filter((t) => ['passed', 'failed'].includes(t.result().state)).length;
    if (ran === 0) this.line(`${module.moduleId.split('/').at(-1)}: 0 checks ran (${tests.length} step(s), all skipped)`);
  }

  /**
   * The failed step's first line under it; the whole report (diff, command lines, consoles, kernel logs)
   * comes once, in vitest's summary at the end.
   */
  protected override formatShortError(error: { message: string }): string {
    return `→ ${error.message.split('\n')[0]}`;
  }

  private line(text: string): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1).padStart(6);
    this.ctx.logger.log(`[${seconds}s] ${text}`);
  }
}

/** "basic.yaml step 2/5" */
function position(test: TestCase): string {
  const siblings = [...test.parent.children].filter((t) => t.type === 'test');
  const file = test.module.moduleId.split('/').at(-1);
  return `${file} step ${siblings.indexOf(test) + 1}/${siblings.length}`;
}
