/**
 * Every setting the harness takes from outside, in one table: its environment variable, its command-line
 * flag (if it has one), its help text, how its text is parsed and its default. Commands declare their
 * options from this table, and the CLI hands its choices to vitest's workers (separate processes) through
 * the environment variables, so that a worker, `npx vitest` run by hand and the CLI all read the same thing.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { EnvironmentError } from './errors.js';
import { buildFor, QEMU_BUILDS } from './qemu/versions.js';
import { imageNames } from './images/recipe.js';
import { ARCH_NAMES, ARCHES, archOfMachine, MACHINE_TYPES, type Arch, type MachineType } from './arch.js';

export { MACHINE_TYPES, type MachineType };

/** Memory a scenario file may take at once: two 512 MiB guests and QEMU's own, with room to spare. */
const MEMORY_PER_JOB = 2 * 2 ** 30;

export type Accel = 'kvm' | 'tcg';
export type AccelChoice = Accel | 'auto';
export type KeepMode = 'never' | 'always' | 'failure';

interface Setting<T> {
  env: string;
  /** commander's flag syntax; absent for settings only the environment sets. */
  flag?: string;
  help: string;
  /** Throws an Error whose message says what is allowed. */
  parse(text: string): T;
  fallback(): T;
}

function choice<T extends string>(allowed: readonly T[]) {
  return (text: string): T => {
    if (!(allowed as readonly string[]).includes(text)) throw new Error(`expected one of ${allowed.join(', ')}, not "${text}"`);
    return text as T;
  };
}

function atLeastOne(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a whole number of at least 1, not "${text}"`);
  return n;
}

const qemuChoices = QEMU_BUILDS.map((b) => b.version).join(', ');

export const SETTINGS = {
  qemu: {
    env: 'NVDIMM_HARNESS_QEMU',
    flag: '--qemu <path|version>',
    help: `QEMU binary, or a Debian build by version or suite: ${qemuChoices} (default: qemu-system-x86_64 on PATH, else 7.2)`,
    parse(text: string): string | undefined {
      if (text.includes('/')) {
        if (!existsSync(text)) throw new Error(`QEMU binary ${text} does not exist`);
        return resolve(text);
      }
      if (!buildFor(text)) throw new Error(`QEMU ${text} is not provisionable; choose ${qemuChoices} (or a Debian suite) or a path`);
      return text;
    },
    fallback: (): string | undefined => undefined,
  },
  image: {
    env: 'NVDIMM_HARNESS_IMAGE',
    flag: '--image <name>',
    help: 'guest image, images/NAME.json (default: debian-bookworm, unless a scenario names one)',
    parse(text: string): string | undefined {
      const names = imageNames();
      if (!names.includes(text)) throw new Error(`unknown guest image "${text}"; choose ${names.join(', ')}`);
      return text;
    },
    fallback: (): string | undefined => undefined,
  },
  kernel: {
    env: 'NVDIMM_HARNESS_KERNEL',
    flag: '--kernel <path>',
    help: "a guest kernel you built (arch/x86/boot/bzImage or vmlinux), booted with the image's Debian userland",
    parse(text: string): string | undefined {
      if (!existsSync(text)) throw new Error(`kernel ${text} does not exist`);
      return resolve(text);
    },
    fallback: (): string | undefined => undefined,
  },
  modules: {
    env: 'NVDIMM_HARNESS_MODULES',
    flag: '--modules <dir>',
    help: "--kernel's modules: DIR of make modules_install INSTALL_MOD_PATH=DIR (not needed when its NVDIMM drivers are built in)",
    parse(text: string): string | undefined {
      if (!existsSync(join(text, 'lib/modules')))
        throw new Error(`${text} has no lib/modules: expected the INSTALL_MOD_PATH of make modules_install`);
      return resolve(text);
    },
    fallback: (): string | undefined => undefined,
  },
  accel: {
    env: 'NVDIMM_HARNESS_ACCEL',
    flag: '--accel <mode>',
    help: 'accelerator: auto (KVM only if a probe guest boots under it), kvm or tcg',
    parse: choice<AccelChoice>(['auto', 'kvm', 'tcg']),
    fallback: (): AccelChoice => 'auto',
  },
  arch: {
    env: 'NVDIMM_HARNESS_ARCH',
    flag: '--arch <arch>',
    help: "guest architecture: amd64, or arm64 (qemu-system-aarch64 under TCG, machine virt, UEFI); default: the machine type's, else amd64; scenarios not for it are skipped",
    parse: choice<Arch>(ARCH_NAMES),
    // A machine type belongs to one arch: `--machine virt` alone means arm64 (and CI cells name only machines).
    fallback: (): Arch => {
      const machine = process.env[SETTINGS.machine.env];
      return machine && (MACHINE_TYPES as readonly string[]).includes(machine) ? archOfMachine(machine as MachineType) : 'amd64';
    },
  },
  machine: {
    env: 'NVDIMM_HARNESS_MACHINE',
    flag: '--machine <type>',
    help: 'machine type of every guest that does not name one: pc or q35 on amd64 (default pc), virt on arm64; scenarios not for it are skipped',
    parse: choice<MachineType>(MACHINE_TYPES),
    fallback: (): MachineType => ARCHES[setting('arch')].machines[0],
  },
  artifacts: {
    env: 'NVDIMM_HARNESS_ARTIFACTS',
    flag: '--artifacts <dir>',
    help: 'where the serial logs, QEMU command lines and QMP transcripts of failed scenarios are kept',
    parse: (text: string) => resolve(text),
    fallback: () => resolve('nvdimm-harness-artifacts'),
  },
  verbose: {
    env: 'NVDIMM_HARNESS_VERBOSE',
    flag: '--verbose',
    help: 'also print what each passing check saw: command output, ndctl and cxl listings, QMP answers',
    parse(text: string): boolean {
      if (!['0', '1', 'true', 'false'].includes(text)) throw new Error(`expected 1 or 0, not "${text}"`);
      return text === '1' || text === 'true';
    },
    fallback: () => false,
  },
  keepArtifacts: {
    env: 'NVDIMM_HARNESS_KEEP_ARTIFACTS',
    help: "how many failed scenarios' log folders to keep in the artifacts folder; older ones are removed (default 20)",
    parse: atLeastOne,
    fallback: () => 20,
  },
  keep: {
    env: 'NVDIMM_HARNESS_KEEP',
    help: 'leave guests running after the run: never, always, or when a step failed (--keep, --keep-on-failure)',
    parse: choice<KeepMode>(['never', 'always', 'failure']),
    fallback: (): KeepMode => 'never',
  },
  jobs: {
    env: 'NVDIMM_HARNESS_JOBS',
    flag: '--jobs <n>',
    help: 'scenario files run at once (default: one per core, within memory at 2 GiB each)',
    parse: atLeastOne,
    fallback: () => defaultJobs(availableParallelism(), totalmem()),
  },
  cache: {
    env: 'NVDIMM_HARNESS_CACHE',
    help: 'cache of QEMU builds, guest images and KVM verdicts (default: $XDG_CACHE_HOME/nvdimm-harness, else ~/.cache/nvdimm-harness)',
    parse: (text: string) => resolve(text),
    fallback: () => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nvdimm-harness'),
  },
  mirror: {
    env: 'NVDIMM_HARNESS_DEBIAN_MIRROR',
    help: "Debian mirror to fetch packages from (default: the first Debian archive in the host's apt sources)",
    parse(text: string): string | undefined {
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        // reported below
      }
      if (!url || !/^https?:$/.test(url.protocol) || /\s/.test(text))
        throw new Error(`expected an http(s) URL such as http://mirror.example/debian, not "${text}"`);
      return text.replace(/\/+$/, '');
    },
    fallback: (): string | undefined => undefined,
  },
} satisfies Record<string, Setting<unknown>>;

/** One scenario file per core (each TCG guest keeps one core busy while it boots), within memory. */
export function defaultJobs(cores: number, memory: number): number {
  return Math.max(1, Math.min(cores, Math.floor(memory / MEMORY_PER_JOB)));
}

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['fallback']>;

/** A setting's value from the environment, else its default; a malformed value is an EnvironmentError. */
export function setting<K extends SettingKey>(key: K, env: NodeJS.ProcessEnv = process.env): SettingValue<K> {
  const s = SETTINGS[key] as Setting<SettingValue<K>>;
  const text = env[s.env];
  if (text === undefined || text === '') return s.fallback();
  try {
    return s.parse(text);
  } catch (e) {
    throw new EnvironmentError(`${s.env}: ${(e as Error).message}`);
  }
}

/** The option for a setting, declared once: same flag, help and validation in every command. */
function settingOption(key: SettingKey): Option {
  const s = SETTINGS[key] as Setting<unknown>;
  if (!s.flag) throw new Error(`setting ${key} has no command-line flag`);
  const option = new Option(s.flag, s.help);
  // A flag without a value (--verbose) is a switch: nothing to parse.
  if (!/[<[]/.test(s.flag)) return option;
  return option.argParser((text: string) => {
    try {
      s.parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    return text;
  });
}

/** Adds the options of these settings to a command. */
export function addSettingOptions(command: Command, keys: SettingKey[]): Command {
  for (const key of keys) command.addOption(settingOption(key));
  return command;
}

/** The settings that choose what guests run on: every command that boots guests takes them, as flags. */
export const GUEST_SETTINGS = ['qemu', 'arch', 'kernel', 'modules', 'image', 'machine', 'accel'] as const satisfies readonly SettingKey[];

/** The values a command's parsed options (named as the settings are) give these settings. */
export function chosenSettings(opts: object, keys: readonly SettingKey[]): Partial<Record<SettingKey, string>> {
  return Object.fromEntries(keys.map((k) => [k, (opts as Record<string, string | undefined>)[k]]));
}

/**
 * Hands the command line's choices to this process and its workers, as their environment variables: the
 * one way settings reach vitest's workers.
 */
export function exportSettings(values: Partial<Record<SettingKey, string | undefined>>): void {
  for (const [key, text] of Object.entries(values)) {
    if (text === undefined) continue;
    const s = SETTINGS[key as SettingKey] as Setting<unknown>;
    const parsed = s.parse(text);
    process.env[s.env] = typeof parsed === 'string' ? parsed : text;
  }
}
