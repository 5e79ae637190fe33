import { afterAll, beforeAll, describe, it } from 'vitest';
import { prepareEnvironment } from '../engine/environment.js';
import { failureContext, keepInstructions, kernelLogs } from '../engine/report.js';
import { ScenarioRun } from '../engine/scenario-run.js';
import { runStep, SETUP_ACTIONS, stepTitle } from '../engine/steps/index.js';
import { loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import type { PlannedStep } from '../scenario/plan.js';
import { setting } from '../settings.js';
import { EVIDENCE_HEADER, SKIP_ANNOTATION, VITEST_LIMIT_MS } from './project.js';

// Once per worker process, which runs file after file (scenarioTestOptions: isolate false).
// A worker whose vitest went away (killed outright) ends too, and its QEMUs with it.
if (process.connected) process.once('disconnect', () => process.exit(1));
// Ctrl-C reaches every process of the terminal's group: the harness stops its workers in order, so a
// worker leaves SIGINT to it rather than die under vitest's feet (which crashes vitest's pool).
process.on('SIGINT', () => {
  if (!process.connected) process.exit(130);
});

/**
 * Registers one scenario file as a vitest suite: one test per step, named after what the step checks, run
 * in order. A step after a failed one is skipped, since the guests are no longer in the state it assumes.
 * When a name filter (-t) skips steps, the steps that set up state (boot, stop, reboot, restart, write,
 * hotplug) before a selected one still run, so the selected checks see the state they expect.
 */
export async function scenarioTests(file: string): Promise<void> {
  let loaded: LoadedScenario;
  try {
    loaded = loadScenarioFile(file);
  } catch (e) {
    it('scenario file is valid', () => {
      throw e;
    });
    return;
  }
  const env = await prepareEnvironment(loaded.scenario.image);
  const keep = setting('keep');
  const { scenario } = loaded;

  // Named after the scenario alone, so that reports keep the same test ids from one QEMU build, image or
  // night to the next; where it ran is in the run's header and in every failure report.
  describe(scenario.name, () => {
    let run: ScenarioRun | undefined;
    let failed = false;
    let skip: string | undefined;
    /** Steps before this index have run, or were passed over. */
    let next = 0;

    beforeAll(async () => {
      run = await ScenarioRun.open(loaded, env, setting('artifacts'), keep !== 'never');
      skip = run.skipReason();
    });

    afterAll(async () => {
      if (run && (keep === 'always' || (keep === 'failure' && failed))) console.error(keepInstructions(file, run.dir, await run.keep()));
      const kept = await run?.close(failed);
      if (kept) console.error(`${file}: logs, QEMU command lines and QMP transcripts kept in ${kept}`);
    });

    const execute = async (step: PlannedStep, progress: (event: string) => void) => {
      try {
        await runStep(run!, step, progress);
      } catch (e) {
        failed = true;
        // The check's own words first; then where it ran and how to reproduce it.
        const context = failureContext(run!, step, await kernelLogs(run!));
        if (e instanceof Error) e.message += `\n${context}`;
        // The same evidence as the step's console output: JUnit writes it as the testcase's <system-out>.
        console.log(`${EVIDENCE_HEADER}${context}`);
        throw e;
      }
    };

    scenario.steps.forEach((source, index) => {
      it(stepTitle(source), { timeout: VITEST_LIMIT_MS }, async (ctx) => {
        // The reason is also an annotation of its own type: JUnit reports write it as a property.
        const skipBecause = async (reason: string) => {
          await ctx.annotate(reason, SKIP_ANNOTATION);
          ctx.skip(reason);
        };
        if (skip) return skipBecause(skip);
        if (failed) return skipBecause('an earlier step of this scenario failed');
        const progress = (event: string) => void ctx.annotate(event);
        // Steps the name filter passed over: those that set up state run now, the checks stay skipped.
        for (const earlier of run!.plan.steps.slice(next, index)) {
          if (!SETUP_ACTIONS.has(earlier.action) || run!.stepSkipReason(earlier)) continue;
          progress(`set-up step ${earlier.index + 1} (${stepTitle(earlier.source)}), for the steps selected`);
          await execute(earlier, progress);
        }
        next = index + 1;
        const step = run!.plan.steps[index]!;
        const reason = run!.stepSkipReason(step);
        if (reason) return skipBecause(reason);
        await execute(step, progress);
      });
    });
  });
}
