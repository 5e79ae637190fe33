import type { z } from 'zod';
import type { PlannedArgs } from '../../scenario/plan.js';
import type { actions, ActionName } from '../../scenario/schema.js';
import type { ScenarioRun } from '../scenario-run.js';

export type Args<K extends ActionName> = z.output<(typeof actions)[K]>;

/** What a step is given besides its arguments. */
export interface StepContext {
  /** Where the step reports what it is doing, for live progress. */
  progress: (event: string) => void;
  /** The deadline of each command the step runs in a guest. */
  commandTimeoutMs: number;
}

/** One kind of step: how it is named in reports (from what the file says) and what it does (on the plan). */
export interface StepKind<K extends ActionName> {
  title(args: Args<K>): string;
  run(run: ScenarioRun, args: PlannedArgs<K>, ctx: StepContext): Promise<void>;
}

export type StepKinds<K extends ActionName> = { [A in K]: StepKind<A> };
