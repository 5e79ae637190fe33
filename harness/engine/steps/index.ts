/** Every kind of step, by its action name: adding one is its module here plus its schema entry. */
import type { ActionName } from '../../scenario/schema.js';
import { actionOf, type PlannedStep } from '../../scenario/plan.js';
import type { Step } from '../../scenario/schema.js';
import type { ScenarioRun } from '../scenario-run.js';
import { dataSteps } from './data.js';
import { guestCheckSteps } from './guest-checks.js';
import { hotplugSteps } from './hotplug.js';
import type { StepContext, StepKinds } from './kind.js';
import { lifecycleSteps } from './lifecycle.js';

const kinds: StepKinds<ActionName> = { ...lifecycleSteps, ...guestCheckSteps, ...dataSteps, ...hotplugSteps };

/** Steps that change what later steps see (a `run` command may: it counts as one); the others only look. A name filter never skips these. */
export const SETUP_ACTIONS: ReadonlySet<ActionName> = new Set(['boot', 'stop', 'reboot', 'restart', 'write', 'hotplug', 'run']);

export function stepTitle(step: Step): string {
  const action = actionOf(step);
  return step.name ?? (kinds[action].title as (a: unknown) => string)(step[action]);
}

/** Each command a step runs in a guest may take this long, unless the step says `timeout:`. */
const DEFAULT_COMMAND_TIMEOUT_S = 60;

export function runStep(run: ScenarioRun, step: PlannedStep, progress: (event: string) => void = () => {}): Promise<void> {
  const ctx: StepContext = { progress, commandTimeoutMs: (step.source.timeout ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000 };
  return (kinds[step.action].run as (r: ScenarioRun, a: unknown, c: StepContext) => Promise<void>)(run, step.args, ctx);
}
