/**
 * The guest architectures: the one table of what differs between them — Debian's packages and paths, QEMU's
 * binary, machine types, firmware, console and CPU. Everything arch-specific is looked up here.
 */

/** Debian's architecture names: the QEMU builds and guest images are Debian's. */
export const ARCH_NAMES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCH_NAMES)[number];

export const MACHINE_TYPES = ['pc', 'q35', 'virt'] as const;
export type MachineType = (typeof MACHINE_TYPES)[number];

export interface ArchSpec {
  /** The GNU triplet: the folder of shared libraries (lib/TRIPLET) in Debian's trees. */
  triplet: string;
  /** The dynamic loader's file name, in lib/TRIPLET of a Debian tree. */
  loader: string;
  /** Where the guest's binaries look for the loader (their ELF interpreter). */
  interpreter: string;
  qemuBinary: string;
  /** Debian packages that make up a QEMU build for this guest architecture (host: amd64). */
  qemuPackages: string[];
  /** Machine types for this architecture; the first is the default. */
  machines: readonly [MachineType, ...MachineType[]];
  /**
   * UEFI firmware, in the QEMU build's tree, passed with `-bios`: NVDIMMs on `virt` are described by ACPI
   * tables (NFIT), which reach the guest only through UEFI. x86 boots the kernel directly (PVH).
   */
  bios?: string;
  /** The serial console's name in the guest. */
  console: string;
  /**
   * The CPU under TCG. amd64: QEMU's baseline plus RDRAND (see argv.ts). arm64: `cortex-a57`, which has no
   * pointer authentication: `max` emulates its QARMA ciphers at every function return, and booted to NVH-READY
   * in 27.5 s against cortex-a57's 10.3 s (QEMU 7.2, median of 3 interleaved rounds: `npm run bench -- --arch
   * arm64 --candidate cpu=cortex-a57`); `max,pauth-impdef=on` is as fast, but 5.2 has no such property.
   */
  tcgCpu: string;
  /** Kernel command-line words for this architecture only (after argv.ts's KERNEL_ARGS). */
  kernelArgs: string[];
  /** And for this architecture under TCG only. */
  tcgKernelArgs: string[];
}

export const ARCHES: Record<Arch, ArchSpec> = {
  amd64: {
    triplet: 'x86_64-linux-gnu',
    loader: 'ld-linux-x86-64.so.2',
    interpreter: 'lib64/ld-linux-x86-64.so.2',
    qemuBinary: 'qemu-system-x86_64',
    qemuPackages: ['qemu-system-x86'],
    machines: ['pc', 'q35'],
    console: 'ttyS0',
    tcgCpu: 'qemu64,+rdrand',
    // With one CPU the kernel rewrites every LOCK prefix in its text, and in each module it loads, to a NOP;
    // each rewrite throws away QEMU's translated code. Keeping them: 0.14 s less to NVH-READY, faster in
    // 12 of 12 interleaved rounds (QEMU 7.2, bookworm, 2026-12-06).
    kernelArgs: ['noreplace-smp'],
    // The tick from the HPET instead of the local APIC timer, whose calibration against the PM timer is a
    // 0.1 s busy wait (HZ/10) under TCG, where the CPU has no TSC-deadline timer to skip it: 0.11 s less
    // between the kernel's own marks, QEMU start to NVH-READY faster in 12 of 16 interleaved rounds (QEMU
    // 7.2, bookworm, 2026-12-06). Under KVM the host CPU's TSC-deadline timer skips the calibration.
    tcgKernelArgs: ['noapictimer'],
  },
  arm64: {
    triplet: 'aarch64-linux-gnu',
    loader: 'ld-linux-aarch64.so.1',
    interpreter: 'lib/ld-linux-aarch64.so.1',
    // Debian's qemu-system-arm holds qemu-system-aarch64; qemu-efi-aarch64 its UEFI firmware.
    qemuBinary: 'qemu-system-aarch64',
    qemuPackages: ['qemu-system-arm', 'qemu-efi-aarch64'],
    machines: ['virt'],
    bios: 'usr/share/qemu-efi-aarch64/QEMU_EFI.fd',
    console: 'ttyAMA0',
    tcgCpu: 'cortex-a57',
    kernelArgs: [],
    tcgKernelArgs: [],
  },
};

/** The architecture a machine type belongs to. */
export function archOfMachine(machine: MachineType): Arch {
  return ARCH_NAMES.find((a) => ARCHES[a].machines.includes(machine))!;
}
