import type { GuestSpec } from '../scenario/schema.js';
import { qemuSize } from '../scenario/units.js';

export type Accel = 'kvm' | 'tcg';

export interface LaunchSpec {
  guest: GuestSpec;
  /** Backend file key -> host path. */
  files: Record<string, string>;
  kernel: string;
  initramfs: string;
  /** Extra kernel command line words (the SSH key, test switches). */
  append: string[];
  accel: Accel;
  qmpSocket: string;
  sshPort: number;
  firmware: string[];
}

/**
 * The guest kernel's command line. Besides the console, it skips boot work that costs about 0.5 s under
 * TCG and that no scenario needs: the crypto self-tests, the KDF self-test and kprobe tracing.
 */
export const KERNEL_ARGS = ['console=ttyS0', 'quiet', 'cryptomgr.notests', 'initcall_blacklist=crypto_kdf108_init,init_kprobe_trace'];

/** A value inside QEMU's comma-separated option syntax: a literal comma is written twice. */
export function optValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** The NVDIMM's memory-backend-file object, as `-object` and QMP/HMP `object_add` take it. */
export function backendObject(id: string, path: string, size: number, share: boolean): string {
  return `memory-backend-file,id=mem-${id},share=${share ? 'on' : 'off'},mem-path=${optValue(path)},size=${qemuSize(size)}`;
}

export function nvdimmDevice(id: string, labelSize: number | undefined): string {
  return `nvdimm,id=${id},memdev=mem-${id}${labelSize === undefined ? '' : `,label-size=${qemuSize(labelSize)}`}`;
}

/**
 * QEMU's argument list for one guest. Built as a list, never through a shell; ids are checked by the schema
 * and paths are escaped for QEMU's option syntax, so no scenario value can add an option.
 */
export function qemuArgv(spec: LaunchSpec, fileSizes: Record<string, number>): string[] {
  const { guest } = spec;
  const memory = [qemuSize(guest.memory.ram)];
  if (guest.memory.slots !== undefined) memory.push(`slots=${guest.memory.slots}`);
  if (guest.memory.maxmem !== undefined) memory.push(`maxmem=${qemuSize(guest.memory.maxmem)}`);
  const argv = [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-machine',
    `${guest.machine.type}${guest.machine.nvdimm ? ',nvdimm=on' : ''}`,
    '-accel',
    spec.accel,
    // Under TCG, "max" offers RDRAND: the guest's entropy pool is ready at once instead of ~1 s later,
    // which is when sshd could make its host key.
    '-cpu',
    spec.accel === 'kvm' ? 'host' : 'max',
    '-smp',
    '1',
    '-m',
    memory.join(','),
    ...spec.firmware.flatMap((dir) => ['-L', dir]),
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initramfs,
    '-append',
    [...KERNEL_ARGS, ...spec.append].join(' '),
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
  for (const n of guest.nvdimms) {
    const path = spec.files[n.backend.file]!;
    argv.push('-object', backendObject(n.id, path, n.backend.size ?? fileSizes[n.backend.file]!, n.backend.share));
    argv.push('-device', nvdimmDevice(n.id, n['label-size']));
  }
  return argv;
}

/** The command line as a user would paste it into a shell, for failure reports. */
export function shellCommand(command: string, args: string[], env: Record<string, string> = {}): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [...Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`), quote(command), ...args.map(quote)].join(' ');
}
