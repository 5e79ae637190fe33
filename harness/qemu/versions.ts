/**
 * The QEMU builds the harness can provision, and what QEMU versions can do: the one table of these facts.
 * Adding a build is one line in QEMU_BUILDS (and its cells in ci/matrix.yaml); a behaviour that depends on
 * the version is a named capability here, asked for with `has(version, name)`, never a version comparison
 * written where it is used.
 */
import semver from 'semver';

/** Debian suites whose qemu-system-x86 runs on a Debian 12 host when provisioned, and the QEMU each ships. */
export const QEMU_BUILDS = [
  { version: '5.2', suite: 'bullseye' },
  { version: '7.2', suite: 'bookworm' },
  { version: '10.0', suite: 'trixie' },
  { version: '11.1', suite: 'sid' },
] as const;

export type QemuBuild = (typeof QEMU_BUILDS)[number];

/** The build used when no QEMU is chosen and none is on PATH. */
export const DEFAULT_BUILD: QemuBuild = QEMU_BUILDS[1];

/** A build named by its QEMU version ("10.0") or its Debian suite ("trixie"). */
export function buildFor(name: string): QemuBuild | undefined {
  return QEMU_BUILDS.find((b) => b.version === name || b.suite === name);
}

/**
 * Version-dependent abilities, each with the versions that have it. Where the boundary lies between two
 * measured builds, the range starts at the first build seen to have it: versions in between were not run.
 */
export const CAPABILITIES = {
  /** QMP object-add takes the object's properties as top-level arguments; before 6.0 they went in "props" (QAPI change in 6.0). */
  objectAddFlat: '>=6.0',
  /** memory-backend-file's `readonly` property: absent on 5.2, present on 7.2 (-object memory-backend-file,help). */
  backendReadonly: '>=7.2',
  /** memory-backend-file's `offset` and `rom` properties: absent on 7.2, present on 10.0. */
  backendOffset: '>=10.0',
  /** The cxl-type3 device (q35 cxl=on): absent on 5.2, with `memdev=` on 7.2. */
  cxl: '>=7.2',
  /** cxl-type3's `persistent-memdev=`: 10.0 on (7.2 has only `memdev=`). */
  cxlPersistentMemdev: '>=10.0',
} as const;

export type Capability = keyof typeof CAPABILITIES;
export const CAPABILITY_NAMES = Object.keys(CAPABILITIES) as [Capability, ...Capability[]];

export function has(version: string, capability: Capability): boolean {
  return versionIn(version, CAPABILITIES[capability]);
}

/** Whether a QEMU version ("7.2.22", or a build's "7.2") lies in a scenario's range (">=7.0", "<10.0"). */
export function versionIn(version: string, range: string): boolean {
  const v = semver.coerce(version);
  return v !== null && semver.satisfies(v, range);
}

/** The capabilities a version has, for `qemu list`. */
export function capabilitiesOf(version: string): Capability[] {
  return CAPABILITY_NAMES.filter((c) => has(version, c));
}
