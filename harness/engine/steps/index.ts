/** Every kind of step, by its action name: adding one is its module here plus its schema entry. */
import type { ActionName, Step } from '../../scenario/schema.js';
import { actionOf, type PlannedStep } from '../../scenario/plan.js';
import { setting } from '../../settings.js';
import type { ScenarioRun } from '../scenario-run.js';
import { dataSteps } from './data.js';
import { guestCheckSteps } from './guest-checks.js';
import { hotplugSteps } from './hotplug.js';
import type { CheckKind, Mutant, StepContext, StepKinds } from './kind.js';
import { lifecycleSteps } from './lifecycle.js';
import { monitorSteps } from './monitor.js';

const kinds: StepKinds<ActionName> = { ...lifecycleSteps, ...guestCheckSteps, ...dataSteps, ...hotplugSteps, ...monitorSteps };

/** Steps that change what later steps see (a `run` command or a monitor command may: they count as such); the others only look. A name filter never skips these. */
export const SETUP_ACTIONS: ReadonlySet<ActionName> = new Set([
  'boot',
  'stop',
  'reboot',
  'restart',
  'write',
  'hotplug',
  'run',
  'qmp',
  'hmp',
  'prepare-file',
]);

/** Each command a step runs in a guest may take this long, unless the step says `timeout:`. */
const DEFAULT_COMMAND_TIMEOUT_S = 60;

export function stepTitle(step: Step): string {
  const action = actionOf(step);
  return step.name ?? (kinds[action].title as (a: unknown) => string)(step[action]);
}

function checkKind(step: PlannedStep): CheckKind<ActionName, unknown> | undefined {
  const kind = kinds[step.action];
  return 'observe' in kind ? (kind as unknown as CheckKind<ActionName, unknown>) : undefined;
}

/** Runs a step; a check's observation is returned once it has been judged to hold (`mutate` judges it again). */
export async function runStep(
  run: ScenarioRun,
  step: PlannedStep,
  progress: (event: string) => void = () => {},
): Promise<{ seen?: unknown }> {
  const ctx: StepContext = { progress, commandTimeoutMs: (step.source.timeout ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000 };
  const check = checkKind(step);
  if (!check) {
    await (kinds[step.action] as { run(r: ScenarioRun, a: unknown, c: StepContext): Promise<void> }).run(run, step.args, ctx);
    return {};
  }
  const seen = await check.observe(run, step.args as never, ctx);
  check.judge(step.args as never, seen, run.env.qemu.version);
  if (check.show && setting('verbose')) {
    const text = check.show(seen).trimEnd() || '(nothing)';
    progress(text.includes('\n') ? `saw:\n${text.replace(/^/gm, '    | ')}` : `saw: ${text}`);
  }
  return { seen };
}

export interface StepResult {
  step: PlannedStep;
  /** skipped: its `when:` does not hold here (`reason` says why). */
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  /** A check's observation, for `mutate`. */
  seen?: unknown;
  error?: Error;
  ms: number;
}

/**
 * Runs steps in order outside vitest (`shell`, `mutate`), telling `onResult` of each; the first failure ends
 * the run, since the guests are no longer in the state the later steps assume.
 */
export async function runSteps(
  run: ScenarioRun,
  steps: PlannedStep[],
  onResult: (result: StepResult) => Promise<void> | void = () => {},
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    const started = Date.now();
    const reason = run.stepSkipReason(step);
    let result: StepResult;
    if (reason) result = { step, status: 'skipped', reason, ms: 0 };
    else {
      try {
        result = { step, status: 'passed', seen: (await runStep(run, step)).seen, ms: Date.now() - started };
      } catch (e) {
        result = { step, status: 'failed', error: e as Error, ms: Date.now() - started };
      }
    }
    results.push(result);
    await onResult(result);
    if (result.status === 'failed') break;
  }
  return results;
}

/** A check step's expectations changed one at a time; none for a step that acts. */
export function stepMutants(step: PlannedStep, qemuVersion: string): Mutant<ActionName>[] {
  return checkKind(step)?.mutants(step.args as never, qemuVersion) ?? [];
}

/** Judges changed expectations against what a step saw: the CheckFailure, or undefined if they hold too. */
export function judgeAgain(step: PlannedStep, args: unknown, seen: unknown, qemuVersion: string): Error | undefined {
  try {
    checkKind(step)!.judge(args as never, seen, qemuVersion);
    return undefined;
  } catch (e) {
    return e as Error;
  }
}
