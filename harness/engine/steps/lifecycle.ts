/** Steps that start, stop and restart guests, and the start that QEMU must refuse. */
import { CheckFailure } from '../../errors.js';
import { checkEqual, messageFor } from '../checks.js';
import type { StepKinds } from './kind.js';

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
    async run(run, a) {
      const message = messageFor(a.message, run.env.qemu.version);
      const { outcome, guest } = await run.startExpectingRefusal(a.guest);
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
            command: guest.commandLine,
            evidence: [['serial console', guest.console.excerpt()]],
          },
          'QEMU refuses the configuration',
          what,
        );
      }
      const exit = outcome.exit;
      checkEqual(`QEMU's exit status for ${a.guest.name}`, a.status, exit.code ?? exit.signal, `stderr: ${exit.stderr}`);
      if (!message.test(exit.stderr)) {
        throw new CheckFailure(
          `QEMU ${run.env.qemu.version} refused ${a.guest.name} with another message than /${message.source}/:\n${exit.stderr}`,
          message.source,
          exit.stderr,
        );
      }
    },
  },
};
