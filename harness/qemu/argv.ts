import type { PlannedMachine } from '../scenario/plan.js';
import type { Accel } from '../settings.js';
import { cxlDevices, cxlWindow } from '../devices/cxl.js';
import { backendObject } from '../devices/backend.js';
import { optValue, qemuSize } from './options.js';
import { ARCHES, archOfMachine } from '../arch.js';

/** How to start a planned machine: everything the argument list needs besides the machine itself. */
export interface Launch {
  kernel: string;
  initramfs: string;
  /** Extra kernel command line words (the SSH key, test switches). */
  append: string[];
  accel: Accel;
  qmpSocket: string;
  sshPort: number;
  firmware: string[];
  /** UEFI firmware (`-bios`), for architectures that boot through it. */
  bios?: string;
}

/**
 * The guest kernel's command line, after the console (the arch's serial port) and before the arch's own words.
 * It skips boot work that no scenario needs: the crypto self-tests, the KDF self-test and kprobe tracing
 * (about 0.5 s under TCG); the encrypted-keys key type, whose init asked userspace for a cbc(aes) module, so
 * that the kernel ran /sbin/modprobe twice (its initcall took 0.12 s; NVDIMM passphrases are the only use
 * libnvdimm has for it, and QEMU's NVDIMM has no security commands); and IPv6 (the guest is reached over IPv4
 * only; its inet6_init took 0.17 s: QEMU start to NVH-READY 129 ms shorter, faster in 7 of 8 interleaved
 * rounds, 2026-12-06); and the 64 MiB bounce buffer for devices that cannot reach all of RAM, which none of
 * the guest's can (virtio is 64-bit, NVDIMMs and CXL memory are not DMA devices): 113 ms shorter, 8 of 10
 * rounds, 2026-12-06. `npm run bench -- --candidate append=WORDS` measures a line against this one.
 */
export const KERNEL_ARGS = [
  'quiet',
  'cryptomgr.notests',
  'initcall_blacklist=crypto_kdf108_init,init_kprobe_trace,init_encrypted',
  'ipv6.disable=1',
  'swiotlb=noforce',
];

/**
 * QEMU's argument list for one guest. Built as a list, never through a shell; ids are checked by the schema
 * and paths are escaped for QEMU's option syntax, so no scenario value can add an option.
 */
export function qemuArgv(machine: PlannedMachine, spec: Launch): string[] {
  const memory = [qemuSize(machine.memory.ram)];
  if (machine.memory.slots !== undefined) memory.push(`slots=${machine.memory.slots}`);
  if (machine.memory.maxmem !== undefined) memory.push(`maxmem=${qemuSize(machine.memory.maxmem)}`);
  const arch = ARCHES[archOfMachine(machine.type)];
  const argv = [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-machine',
    `${machine.type}${machine.nvdimm ? ',nvdimm=on' : ''}${machine.nvdimmPersistence ? `,nvdimm-persistence=${machine.nvdimmPersistence}` : ''}${machine.cxl ? ',cxl=on' : ''}`,
    '-accel',
    spec.accel,
    // Under TCG, QEMU's baseline CPU plus RDRAND: RDRAND makes the guest's entropy pool ready at once instead
    // of ~1 s later (measured when sshd still made its host key at boot); the baseline model instead of "max" boots the guest
    // ~0.7 s (18%) faster (QEMU start to NVH-READY, median of 10 interleaved boots each; measure it again with
    // `npm run bench -- --candidate cpu=max`),
    // since the kernel has far fewer CPU features to probe and patch in.
    // With CXL, the hypervisor CPUID bit off: kernels from 6.3 on refuse to commit a CXL region when they
    // cannot flush CPU caches across it, which they assume of any VM ("Failed to synchronize CPU cache state").
    '-cpu',
    `${spec.accel === 'kvm' ? 'host' : arch.tcgCpu}${machine.cxl ? ',hypervisor=off' : ''}`,
    '-smp',
    String(machine.cpus),
    '-m',
    memory.join(','),
    ...spec.firmware.flatMap((dir) => ['-L', dir]),
    ...(spec.bios ? ['-bios', spec.bios] : []),
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initramfs,
    '-append',
    [
      `console=${arch.console}`,
      ...KERNEL_ARGS,
      ...arch.kernelArgs,
      ...(spec.accel === 'tcg' ? arch.tcgKernelArgs : []),
      ...spec.append,
    ].join(' '),
    '-serial',
    'stdio',
    '-qmp',
    `unix:${optValue(spec.qmpSocket)},server=on,wait=off`,
    // restrict=on: the guest reaches nothing outside; only the forwarded SSH port comes in, on loopback.
    '-netdev',
    `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    // romfile= skips the iPXE option ROM: the guest boots from -kernel, never from the network.
    '-device',
    'virtio-net-pci,netdev=net0,romfile=',
  ];
  if (machine.numaNodes) argv.push(...numaOptions(machine.numaNodes, machine.memory.ram, machine.cpus));
  for (const d of machine.devices) argv.push('-object', d.object, '-device', d.device);
  // Each root port its own chassis: QEMU refuses two ports with the same chassis and slot.
  machine.hotplugPorts.forEach((id, i) => argv.push('-device', `pcie-root-port,id=${id},chassis=${i + 1}`));
  if (machine.cxl) {
    const { devices, backendProperty } = machine.cxl;
    for (const d of devices) argv.push('-object', backendObject(d.backend), '-object', backendObject(d.lsa));
    for (const d of cxlDevices(devices, backendProperty)) argv.push('-device', d);
    argv.push('-machine', cxlWindow(devices));
  }
  return argv;
}

/**
 * NUMA nodes, each with an equal part of the RAM in a RAM backend of its own (`-numa node,memdev=`, the form
 * every build from 5.2 on takes; `mem=` is refused by newer machine types), and all CPUs on node 0.
 */
export function numaOptions(nodes: number, ram: number, cpus: number): string[] {
  const argv: string[] = [];
  for (let i = 0; i < nodes; i++) {
    argv.push('-object', `memory-backend-ram,id=ram-node${i},size=${qemuSize(ram / nodes)}`);
    argv.push('-numa', `node,nodeid=${i}${i === 0 ? `,cpus=0${cpus > 1 ? `-${cpus - 1}` : ''}` : ''},memdev=ram-node${i}`);
  }
  return argv;
}
