import { afterAll, beforeAll, describe, it } from 'vitest';
import { loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import { configFromEnv } from './config.js';
import { prepareEnvironment } from './environment.js';
import { ScenarioRun } from './scenario-run.js';
import { runStep, stepTitle } from './steps.js';

/** Generous: a step's own deadlines (boot, SSH) fail it with a diagnosis well before this. */
const STEP_TIMEOUT_MS = 600_000;

/**
 * Registers one scenario file as a vitest suite: one test per step, named after what the step checks, run
 * in order. A step after a failed one is skipped, since the guests are no longer in the state it assumes.
 */
export async function scenarioTests(file: string): Promise<void> {
  // A worker whose vitest went away (killed outright) ends too, and its QEMUs with it.
  if (process.connected) process.once('disconnect', () => process.exit(1));
  let loaded: LoadedScenario;
  try {
    loaded = loadScenarioFile(file);
  } catch (e) {
    it('scenario file is valid', () => {
      throw e;
    });
    return;
  }
  const config = configFromEnv();
  const env = await prepareEnvironment(config, loaded.scenario.image);
  const { scenario } = loaded;

  describe(`${scenario.name} [QEMU ${env.qemu.version}, ${env.image.name}, ${env.accel.accel}]`, () => {
    let run: ScenarioRun | undefined;
    let failed = false;
    let skip: string | undefined;

    beforeAll(async () => {
      run = await ScenarioRun.open(loaded, env, config.artifacts, config.keep !== 'never');
      skip = run.skipReason();
    });

    afterAll(async () => {
      if (run && (config.keep === 'always' || (config.keep === 'failure' && failed))) console.error(await run.keepRunning());
      const kept = await run?.close(failed);
      if (kept) console.error(`${file}: logs, QEMU command lines and QMP transcripts kept in ${kept}`);
    });

    for (const step of scenario.steps) {
      it(stepTitle(step), { timeout: STEP_TIMEOUT_MS }, async (ctx) => {
        if (skip) return ctx.skip(skip);
        if (failed) return ctx.skip('an earlier step of this scenario failed');
        const reason = run!.stepSkipReason(step);
        if (reason) return ctx.skip(reason);
        try {
          await runStep(run!, step, (event) => void ctx.annotate(event));
        } catch (e) {
          failed = true;
          // The check's own words first; then where it ran and how to reproduce it.
          if (e instanceof Error) e.message += `\n${run!.explain()}`;
          throw e;
        }
      });
    }
  });
}
