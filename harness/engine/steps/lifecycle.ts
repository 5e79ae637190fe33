/** Steps that start, stop and restart guests, and the start that QEMU must refuse. */
import { CheckFailure } from '../../errors.js';
import type { Outcome } from '../../guest/guest.js';
import { checkEqual, messageFor, messageMutants } from '../checks.js';
import { mutant, type StepKinds } from './kind.js';

interface StartSeen {
  outcome: Outcome;
  commandLine: string;
  console: string;
}

export const lifecycleSteps: StepKinds<'boot' | 'stop' | 'reboot' | 'restart' | 'expect-start-failure'> = {
  boot: {
    title: (guests) => `boot ${guests.join(', ')}`,
    run: (run, machines, ctx) => run.boot(machines, ctx.progress),
  },
  stop: {
    title: (guests) => `stop ${guests.join(', ')}`,
    run: (run, machines) => run.stop(machines),
  },
  reboot: {
    title: (g) => `reboot ${g} from inside`,
    run: (run, machine) => run.guest(machine).reboot(),
  },
  restart: {
    title: (g) => `restart ${g}'s QEMU`,
    run: (run, machine, ctx) => run.restart(machine, ctx.progress),
  },
  'expect-start-failure': {
    title: (a) => `QEMU refuses to start ${a.guest}${typeof a.message === 'string' ? ` with /${a.message}/` : ''}`,
    async observe(run, a): Promise<StartSeen> {
      const { outcome, guest } = await run.startExpectingRefusal(a.guest);
      return { outcome, commandLine: guest.commandLine, console: guest.console.excerpt() };
    },
    judge(a, seen: StartSeen, qemuVersion) {
      const message = messageFor(a.message, qemuVersion);
      const { outcome } = seen;
      if (!('exit' in outcome)) {
        const what =
          'reached' in outcome
            ? 'QEMU accepted the configuration and the guest booted'
            : 'fatal' in outcome
              ? `the guest started and failed: ${outcome.fatal}`
              : 'QEMU neither refused nor booted the guest in time';
        throw new CheckFailure(
          {
            why: `expected QEMU to refuse ${a.guest.name}: ${what}`,
            command: seen.commandLine,
            evidence: [['serial console', seen.console]],
          },
          'QEMU refuses the configuration',
          what,
        );
      }
      const exit = outcome.exit;
      checkEqual(`QEMU's exit status for ${a.guest.name}`, a.status, exit.code ?? exit.signal, `stderr: ${exit.stderr}`);
      if (!message.test(exit.stderr)) {
        throw new CheckFailure(
          `QEMU ${qemuVersion} refused ${a.guest.name} with another message than /${message.source}/:\n${exit.stderr}`,
          message.source,
          exit.stderr,
        );
      }
    },
    mutants: (a, qemuVersion) => [
      mutant('status changed', a, { status: a.status + 1 }),
      ...messageMutants(a.message, qemuVersion).map((m) => mutant<'expect-start-failure'>(m.label, a, { message: m.message })),
    ],
  },
};
