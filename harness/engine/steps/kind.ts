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

/** A step that acts (boots, stops, writes) and checks nothing of its own beyond that it could act. */
export interface ActionKind<K extends ActionName> {
  title(args: Args<K>): string;
  run(run: ScenarioRun, args: PlannedArgs<K>, ctx: StepContext): Promise<void>;
}

/** One expectation of a check changed, named after what changed ("size+4096", "match inverted"). */
export interface Mutant<K extends ActionName> {
  label: string;
  args: PlannedArgs<K>;
}

/**
 * A step that checks: it observes, then judges what it saw against what the scenario expects. Split so that
 * `mutate` can judge changed expectations against one real observation, and prove that each can fail.
 */
export interface CheckKind<K extends ActionName, Seen> {
  title(args: Args<K>): string;
  observe(run: ScenarioRun, args: PlannedArgs<K>, ctx: StepContext): Promise<Seen>;
  /** Throws a CheckFailure when what was seen is not what the scenario expects. */
  judge(args: PlannedArgs<K>, seen: Seen, qemuVersion: string): void;
  /** What was seen, as text, for `--verbose`: command output, listings, answers. */
  show?(seen: Seen): string;
  /** The step's expectations, each changed so that the same observation should fail it. */
  mutants(args: PlannedArgs<K>, qemuVersion: string): Mutant<K>[];
}

// `any`: each kind has its own kind of observation; the registry only passes it from observe to judge.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StepKind<K extends ActionName> = ActionKind<K> | CheckKind<K, any>;

export type StepKinds<K extends ActionName> = { [A in K]: StepKind<A> };

/** A changed copy of a step's arguments. */
export function mutant<K extends ActionName>(label: string, args: PlannedArgs<K>, change: Partial<PlannedArgs<K>>): Mutant<K> {
  return { label, args: { ...args, ...change } };
}
