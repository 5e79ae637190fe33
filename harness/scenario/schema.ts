import { isAbsolute, normalize, sep } from 'node:path';
import { z } from 'zod';
import { CAPABILITY_NAMES } from '../qemu/versions.js';
import { MACHINE_TYPES } from '../settings.js';
import { ARCH_NAMES } from '../arch.js';
import { device, ident, imageName, onOff, regex, sector, size, versionRange } from './values.js';

/**
 * The scenario language. Every object is strict (an unknown key is an error) and every size takes units.
 * Cross-references (a guest's backend file, a step's guest) are checked in `scenarioSchema`'s refinement,
 * so that each error points at the exact place in the YAML.
 *
 * Longer than most files on purpose: the whole language is one zod schema, from which the JSON Schema that
 * editors read and every step's argument types are derived; its values (sizes, names, ranges) are in values.ts.
 */

/** Generous for real scenarios, small enough that a mistake cannot start a thousand QEMUs. */
const MAX_GUESTS = 16;
const MAX_NVDIMMS = 32;
const MAX_STEPS = 500;
/** Guest RAM beyond this is a typo on a test host. */
const MAX_RAM = 64 * 2 ** 30;

const when = z
  .strictObject({
    qemu: versionRange.optional().meta({ description: 'QEMU versions this step or expectation applies to' }),
    image: imageName.optional().meta({ description: 'guest image this step applies to' }),
    machine: z.enum(MACHINE_TYPES).optional().meta({ description: "machine type this step applies to (the run's, --machine)" }),
    capability: z
      .enum(CAPABILITY_NAMES)
      .optional()
      .meta({ description: 'a QEMU capability (harness/qemu/versions.ts) the step needs, e.g. backendReadonly' }),
  })
  .meta({ description: 'the step runs only where every condition holds; elsewhere it is reported as skipped' });

/** memory-backend-file's own options: a scenario gives them only for a file backend. */
const FILE_ONLY = ['size', 'readonly', 'align', 'offset', 'pmem'] as const;
const BACKEND_KINDS = ['file', 'ram', 'memfd'] as const;

const backend = z
  .strictObject({
    file: ident.optional().meta({ description: 'memory-backend-file on this key of `files`' }),
    ram: size.optional().meta({ description: 'memory-backend-ram of this size: anonymous memory, no host file' }),
    memfd: size.optional().meta({ description: 'memory-backend-memfd of this size: anonymous memory, no host file' }),
    size: size
      .refine((b) => b > 0, { message: 'a backend of 0 bytes: give a size, or leave it out for the whole file' })
      .optional()
      .meta({ description: "memory-backend-file's size=; defaults to the file's size (less `offset`)" }),
    share: onOff.optional().meta({
      description: 'share=on: guest writes reach the file (and other guests); default on for file and memfd, off for ram',
    }),
    readonly: onOff.optional().meta({
      description: "memory-backend-file's readonly= (QEMU 7.2 on, as measured; 5.2 has no such property): the file is opened read-only",
    }),
    align: size.optional().meta({ description: "memory-backend-file's align= (QEMU refuses one that is not a power of two)" }),
    offset: size.optional().meta({ description: "memory-backend-file's offset= into the file (QEMU 10.0 on, as measured)" }),
    pmem: onOff.optional().meta({ description: "memory-backend-file's pmem=: the file is on real persistent memory" }),
  })
  .superRefine((b, ctx) => {
    const kinds = BACKEND_KINDS.filter((k) => b[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a backend needs one of `file: KEY`, `ram: SIZE`, `memfd: SIZE`'
            : `a backend is one of file, ram, memfd, not ${kinds.join(' and ')}`,
      });
      return;
    }
    if (kinds[0] === 'file') return;
    for (const key of FILE_ONLY)
      if (b[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `\`${key}\` is an option of file backends; a ${kinds[0]} backend has ${kinds[0]}: SIZE`,
        });
  })
  .transform((b) => ({ ...b, share: b.share ?? b.ram === undefined }));

const nvdimm = z.strictObject({
  id: ident,
  backend,
  'label-size': size
    .refine((b) => b > 0, { message: 'a label area of 0 bytes: leave `label-size` out for none' })
    .optional()
    .meta({ description: 'label area at the end of the backend; QEMU wants at least 128K' }),
  unarmed: onOff.optional().meta({ description: "the nvdimm device's unarmed=: the guest is told the device cannot persist writes" }),
  node: z
    .int()
    .min(0)
    .max(63)
    .optional()
    .meta({ description: "the nvdimm device's node=: the NUMA node (ACPI proximity domain) of its memory; see the guest's `numa`" }),
  uuid: z
    .string()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'expected a lower-case UUID such as 6a1c2b3d-0000-4000-8000-000000000001',
    )
    .optional()
    .meta({ description: "the nvdimm device's uuid= (QEMU 5.0 on)" }),
});

const guest = z
  .strictObject({
    cpus: z
      .int()
      .min(1)
      .max(8)
      .default(1)
      .meta({ description: '-smp: virtual CPUs (default 1; under TCG each takes a host core while busy)' }),
    machine: z
      .strictObject({
        type: z
          .enum(MACHINE_TYPES)
          .optional()
          .meta({
            description: "pc or q35 (amd64), virt (arm64); default: the run's machine type (--machine, default pc, virt with --arch arm64)",
          }),
        nvdimm: z.boolean().default(true).meta({ description: 'the -machine nvdimm=on option' }),
        'nvdimm-persistence': z
          .string()
          .regex(/^[a-z-]+$/, 'expected a word such as cpu or mem-ctrl')
          .optional()
          .meta({ description: '-machine nvdimm-persistence=: cpu or mem-ctrl (any other word, to check that QEMU refuses it)' }),
      })
      .default({ nvdimm: true }),
    memory: z
      .strictObject({
        ram: size
          .refine((b) => b % 2 ** 20 === 0 && b >= 64 * 2 ** 20, { message: 'expected a whole number of MiB, at least 64M' })
          .refine((b) => b <= MAX_RAM, { message: `more than ${MAX_RAM / 2 ** 30}G of guest RAM` })
          .default(512 * 2 ** 20),
        slots: z.int().min(1).max(256).optional().meta({ description: '-m slots=; omit to leave it out' }),
        maxmem: size.optional().meta({ description: '-m maxmem=; omit to leave it out' }),
      })
      .refine((m) => m.maxmem === undefined || m.maxmem >= m.ram, { message: '`maxmem` is below `ram`', path: ['maxmem'] }),
    numa: z
      .int()
      .min(2)
      .max(8)
      .optional()
      .meta({ description: 'NUMA nodes (-numa): the RAM split evenly between them, the CPUs on node 0' }),
    nvdimms: z.array(nvdimm).max(MAX_NVDIMMS).default([]),
    'virtio-pmem': z
      .array(z.strictObject({ id: ident, backend }))
      .max(MAX_NVDIMMS)
      .default([])
      .meta({ description: 'virtio-pmem-pci devices, each on its memory-backend-file (no ACPI NVDIMM, no label area)' }),
    cxl: z
      .array(
        z.strictObject({
          id: ident,
          backend: backend.meta({ description: "the device's persistent memory" }),
          lsa: backend.meta({ description: "the device's label storage area (lsa=)" }),
        }),
      )
      .max(8)
      .default([])
      .meta({
        description:
          'CXL type-3 persistent memory devices (q35 only; QEMU 7.2 on): the harness adds the CXL host bridge, a root port each and the fixed memory window',
      }),
  })
  .refine((g) => g.numa === undefined || g.memory.ram % (g.numa * 2 ** 21) === 0, {
    message: '`memory.ram` does not split into `numa` nodes of whole 2M',
    path: ['numa'],
  });

const file = z.strictObject({
  size: size
    .refine((b) => b > 0, { message: 'a file of 0 bytes backs nothing' })
    .optional()
    .meta({ description: 'made as a sparse file of this size in a private temporary directory' }),
  path: z
    .string()
    .refine((p) => p !== '' && !isAbsolute(p) && normalize(p).split(sep)[0] !== '..' && normalize(p) !== '.', {
      message: "expected a path inside the scenario's folder, relative to it (no absolute paths, no ..)",
    })
    .optional()
    .meta({ description: "an existing file, relative to the scenario's folder" }),
  writable: z.boolean().default(false).meta({ description: 'whether guests may write to an existing file (share=on)' }),
});

const guestRef = ident.meta({ description: 'a key of `guests`' });
const guests = z.union([guestRef, z.array(guestRef).min(1)]).transform((g) => (Array.isArray(g) ? g : [g]));

const namespaceExpect = z.strictObject({
  size: size.optional(),
  mode: z.enum(['raw', 'fsdax', 'devdax', 'sector']).optional(),
  blockdev: z.string().optional(),
  chardev: z.string().optional(),
});
const regionExpect = z.strictObject({
  size: size.optional(),
  type: z.enum(['pmem', 'blk']).optional(),
  persistence_domain: z.string().optional().meta({ description: 'as ndctl prints it: cpu_cache, memory_controller, unknown' }),
  numa_node: z.int().min(0).optional().meta({ description: "the region's NUMA node (read with `ndctl list --verbose`)" }),
});

/**
 * QEMU's words for a refusal, which change between versions: one regular expression, or a list of
 * `{ qemu: range, message: regex }` where the first entry whose range holds for the QEMU in use applies.
 */
const versionedMessage = z
  .union([regex, z.array(z.strictObject({ qemu: versionRange, message: regex })).min(1)])
  .meta({ description: 'a regular expression, or a list of { qemu: range, message: regex } (first match applies)' });

const data = {
  offset: sector.default(0).meta({ description: 'byte offset; a multiple of 512' }),
  length: sector.meta({ description: 'byte count; a multiple of 512' }),
  pattern: z.string().min(1).meta({ description: 'name of a deterministic pseudo-random pattern: the same name gives the same bytes' }),
};

/** The pmem device kinds a guest can have and a hotplug can add. */
export const DEVICE_KINDS = ['nvdimm', 'virtio-pmem'] as const;

/**
 * Monitor commands a scenario may send: ones that look, and the unplugs QEMU's documents talk about. Not
 * the rest: `migrate` runs host commands and `dump-guest-memory` or `object-add` write host files, and
 * only the harness's own steps may do that (on files the scenario declares).
 */
export const QMP_COMMANDS = ['device_del', 'object-del', 'qom-get', 'qom-list', 'device-list-properties', 'qom-list-properties'];
export const HMP_COMMANDS = ['info', 'device_del', 'object_del', 'qom-get', 'qom-list'];
const qmpCommand = z.string().refine((c) => QMP_COMMANDS.includes(c) || /^query-[a-z0-9-]+$/.test(c), {
  message: `expected a query-* command or one of ${QMP_COMMANDS.join(', ')} (commands that write host files or run host commands are not allowed)`,
});
const hmpCommand = z
  .string()
  .regex(/^[a-z_-]+( [^\n]*)?$/, 'expected one monitor command line')
  .refine((c) => HMP_COMMANDS.includes(c.split(' ')[0]!), {
    message: `expected a command line starting with ${HMP_COMMANDS.join(', ')} (commands that write host files or run host commands are not allowed)`,
  });

const memoryDevice = z.strictObject({ id: ident, size: size.optional(), hotplugged: z.boolean().optional() });

export const actions = {
  boot: guests.meta({ description: 'start these guests (in parallel) and wait until SSH answers' }),
  stop: guests.meta({ description: 'stop these guests' }),
  run: z.strictObject({
    guest: guestRef,
    command: z.string().min(1).meta({ description: 'a shell command run in the guest over SSH' }),
    exit: z.int().default(0).meta({ description: 'expected exit status' }),
    output: regex.optional().meta({ description: 'a regular expression that stdout and stderr together must match' }),
  }),
  'expect-ndctl': z
    .strictObject({
      guest: guestRef,
      regions: z
        .union([z.int().min(0), z.array(regionExpect)])
        .optional()
        .meta({ description: 'a count, or one entry per region, matched in any order (the kernel numbers regions its own way)' }),
      namespaces: z
        .union([z.int().min(0), z.array(namespaceExpect)])
        .optional()
        .meta({ description: 'a count, or one entry per namespace, matched in any order' }),
      dimms: z.int().min(0).optional(),
    })
    .refine((a) => a.regions !== undefined || a.namespaces !== undefined || a.dimms !== undefined, {
      message: 'expect-ndctl checks nothing: give `regions`, `namespaces` or `dimms`',
    }),
  'expect-blockdev': z.strictObject({ guest: guestRef, device, size }),
  'expect-cxl': z
    .strictObject({
      guest: guestRef,
      memdevs: z
        .array(z.strictObject({ memdev: z.string().optional(), pmem_size: size.optional(), ram_size: size.optional() }))
        .optional()
        .meta({ description: '`cxl list -M`: one entry per memdev, matched in any order' }),
      regions: z
        .array(z.strictObject({ region: z.string().optional(), size: size.optional(), type: z.enum(['pmem', 'ram']).optional() }))
        .optional()
        .meta({ description: '`cxl list -R`: one entry per region, matched in any order' }),
    })
    .refine((a) => a.memdevs !== undefined || a.regions !== undefined, {
      message: 'expect-cxl checks nothing: give `memdevs` or `regions` (an empty list means none)',
    })
    .meta({ description: "the guest's `cxl list` of memdevs and regions" }),
  write: z.strictObject({ guest: guestRef, device, ...data }).meta({ description: 'write the pattern to the device with O_DIRECT' }),
  'expect-data': z
    .strictObject({
      guest: guestRef,
      device,
      ...data,
      match: z.boolean().default(true).meta({ description: 'false: the bytes there must NOT be the pattern' }),
    })
    .meta({ description: 'read the device with O_DIRECT and compare with the pattern' }),
  'expect-file': z
    .strictObject({
      file: ident.meta({ description: 'a key of `files`' }),
      size: size.optional().meta({ description: "the host file's size" }),
      unchanged: z
        .boolean()
        .optional()
        .meta({ description: 'true: byte for byte as it was when the scenario started; false: it has changed since' }),
      offset: size.default(0),
      length: size.optional(),
      pattern: z.string().min(1).optional(),
      match: z.boolean().default(true),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in 64 lower-case hex digits, as sha256sum prints it')
        .optional()
        .meta({ description: "the whole file's SHA-256" }),
    })
    .refine((f) => (f.pattern === undefined) === (f.length === undefined), { message: '`pattern` and `length` go together' })
    .refine((f) => f.size !== undefined || f.unchanged !== undefined || f.pattern !== undefined || f.sha256 !== undefined, {
      message: 'expect-file checks nothing: give `size`, `unchanged`, `sha256` or `pattern` with `length`',
    })
    .meta({ description: 'check the backend file on the host' }),
  'prepare-file': z
    .strictObject({
      file: ident.meta({ description: 'a key of `files`: a temporary one, or an existing one marked `writable: true`' }),
      offset: size.default(0),
      length: size.refine((b) => b > 0, { message: 'a length of 0 bytes writes nothing' }),
      pattern: z.string().min(1).meta({ description: 'the pattern to write there, as `write` and `expect-data` name them' }),
    })
    .meta({ description: 'write a pattern into a backend file on the host (before a boot, or while no guest maps it)' }),
  'expect-start-failure': z
    .strictObject({
      guest: guestRef,
      message: versionedMessage,
      status: z.int().default(1).meta({ description: "QEMU's exit status" }),
    })
    .meta({ description: 'start the guest and expect QEMU to refuse its configuration' }),
  hotplug: z
    .strictObject({
      guest: guestRef,
      id: ident,
      kind: z.enum(DEVICE_KINDS).default('nvdimm').meta({ description: 'the device to hot-plug: an ACPI NVDIMM or a virtio-pmem-pci' }),
      backend,
      'label-size': size.optional().meta({ description: 'NVDIMMs only' }),
      via: z
        .enum(['qmp', 'hmp'])
        .default('qmp')
        .meta({ description: 'QMP object-add/device_add, or the human monitor object_add/device_add' }),
      error: versionedMessage.optional().meta({ description: 'expect QEMU to refuse the hotplug with this message' }),
    })
    .refine((h) => h.kind === 'nvdimm' || h['label-size'] === undefined, {
      message: 'a virtio-pmem device has no label area: leave out `label-size`',
      path: ['label-size'],
    })
    .meta({ description: 'hot-plug an NVDIMM or a virtio-pmem device and wait until the guest sees it' }),
  'expect-memory-devices': z
    .strictObject({
      guest: guestRef,
      nvdimms: z.array(memoryDevice).optional(),
      'virtio-pmem': z.array(memoryDevice).optional(),
    })
    .refine((m) => m.nvdimms !== undefined || m['virtio-pmem'] !== undefined, {
      message: 'expect-memory-devices checks nothing: give `nvdimms` or `virtio-pmem` (an empty list means none)',
    })
    .meta({ description: "QMP query-memory-devices: the guest's devices of each kind given, in order" }),
  'expect-qemu-stderr': z
    .strictObject({
      guest: guestRef,
      message: versionedMessage.meta({
        description: "what QEMU's stderr must contain (warnings, not refusals), a regular expression per line",
      }),
      match: z.boolean().default(true).meta({ description: 'false: QEMU must NOT have printed this' }),
    })
    .meta({ description: "what the running guest's QEMU has printed on stderr since it started" }),
  qmp: z
    .strictObject({
      guest: guestRef,
      execute: qmpCommand,
      arguments: z.record(z.string(), z.json()).optional().meta({ description: "the command's arguments, as QMP takes them" }),
      return: z
        .json()
        .optional()
        .meta({ description: 'what QMP must return: objects match on the keys given, lists entry by entry, values exactly' }),
      error: versionedMessage.optional().meta({ description: 'expect QEMU to refuse the command with this message' }),
    })
    .refine((q) => (q.return === undefined) !== (q.error === undefined), {
      message: 'a qmp step checks `return` (what QEMU answers) or `error` (its refusal): give exactly one',
    })
    .meta({ description: "a QMP command on the guest's monitor, and what it must answer" }),
  hmp: z
    .strictObject({
      guest: guestRef,
      command: hmpCommand,
      output: versionedMessage.meta({
        description: 'what the human monitor must print (a refusal is printed too, as "Error: ..."); "^$" for nothing',
      }),
    })
    .meta({ description: "a human monitor command on the guest's monitor, and what it must print" }),
  reboot: guestRef.meta({ description: 'reboot the guest from inside (reboot -f) and wait until SSH answers again' }),
  restart: guestRef.meta({ description: 'stop QEMU and start it again with the same configuration' }),
} as const;

export type ActionName = keyof typeof actions;
export const actionNames = Object.keys(actions) as ActionName[];

const stepShape = {
  name: z.string().optional().meta({ description: 'how the step is named in reports; derived from the step if omitted' }),
  when: when.optional(),
  unless: when.optional().meta({
    description: 'the step is skipped where every condition holds (a build and machine that behave otherwise), and runs elsewhere',
  }),
  timeout: z
    .number()
    .positive()
    .max(3600)
    .optional()
    .meta({ description: 'seconds each command the step runs in a guest may take (default 60)' }),
  ...Object.fromEntries(actionNames.map((a) => [a, actions[a].optional()])),
} as {
  name: z.ZodOptional<z.ZodString>;
  when: z.ZodOptional<typeof when>;
  unless: z.ZodOptional<typeof when>;
  timeout: z.ZodOptional<z.ZodNumber>;
} & {
  [K in ActionName]: z.ZodOptional<(typeof actions)[K]>;
};

const step = z.strictObject(stepShape).superRefine((s, ctx) => {
  const present = actionNames.filter((a) => s[a] !== undefined);
  if (present.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        present.length === 0
          ? `a step needs one of: ${actionNames.join(', ')}`
          : `a step has exactly one action, not ${present.join(' and ')}`,
    });
  }
});

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    qemu: versionRange.default('*').meta({ description: 'QEMU versions the scenario is for; others are skipped' }),
    image: imageName.optional().meta({ description: 'guest image (images/NAME.json); the run picks the default otherwise' }),
    images: z.array(imageName).min(1).optional().meta({
      description: 'guest images the scenario is for (default all), e.g. those whose kernel has a driver it needs; others skip it',
    }),
    arches: z
      .array(z.enum(ARCH_NAMES))
      .min(1)
      .default([...ARCH_NAMES])
      .meta({ description: 'guest architectures the scenario is for (default all); a run for another (--arch) skips it' }),
    machines: z
      .array(z.enum(MACHINE_TYPES))
      .min(1)
      .default([...MACHINE_TYPES])
      .meta({ description: 'machine types the scenario is for (default all); a run on another (--machine) skips it' }),
    files: z.record(ident, file).default({}),
    guests: z.record(ident, guest).refine((g) => Object.keys(g).length <= MAX_GUESTS, { message: `more than ${MAX_GUESTS} guests` }),
    steps: z.array(step).min(1).max(MAX_STEPS),
    survivors: z.record(z.string().min(1), z.string().min(10, 'say why this mutant may survive, in a sentence')).default({}).meta({
      description: '`nvdimm-harness mutate`: mutants (by the id it prints) that may pass, each with the reason no check can catch it',
    }),
  })
  .superRefine((s, ctx) => {
    for (const [name, f] of Object.entries(s.files)) {
      if ((f.size === undefined) === (f.path === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['files', name],
          message: 'a file has either `size` (a temporary file made for the run) or `path` (an existing file)',
        });
      }
    }
    // The harness itself writes only to files it made or that the scenario says it may write.
    s.steps.forEach((st, i) => {
      const f = st['prepare-file'] && s.files[st['prepare-file'].file];
      if (f && f.path !== undefined && !f.writable)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'prepare-file', 'file'],
          message: `prepare-file would write to the existing file "${st['prepare-file']!.file}": give it \`writable: true\``,
        });
    });
    // One rule for every backend, cold- or hot-plugged: a guest writes only to files it may write.
    for (const [name, f] of Object.entries(s.files)) {
      if (f.path === undefined || f.writable) continue;
      for (const [backend, path] of backendsOn(s, name)) {
        if (backend.share)
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'share'],
            message: `share=on lets the guest write to the existing file "${name}": give the file \`writable: true\`, or use share: off`,
          });
      }
    }
    for (const [gname, g] of Object.entries(s.guests)) {
      const ids = new Set<string>();
      for (const [key, list] of [
        ['nvdimms', g.nvdimms],
        ['virtio-pmem', g['virtio-pmem']],
        ['cxl', g.cxl],
      ] as const) {
        list.forEach((n, i) => {
          const path = ['guests', gname, key, i];
          const backends: [string, BackendSpec][] = [
            ['backend', n.backend],
            ...('lsa' in n ? [['lsa', n.lsa] as [string, BackendSpec]] : []),
          ];
          for (const [where, b] of backends) {
            if (b.file !== undefined && !(b.file in s.files))
              ctx.addIssue({
                code: 'custom',
                path: [...path, where, 'file'],
                message: `no file "${b.file}" in \`files\` (have: ${Object.keys(s.files).join(', ') || 'none'})`,
              });
          }
          if (ids.has(n.id))
            ctx.addIssue({ code: 'custom', path: [...path, 'id'], message: `duplicate device id "${n.id}" in guest ${gname}` });
          ids.add(n.id);
        });
      }
    }
    for (const [gname, g] of Object.entries(s.guests)) {
      const q35 = g.machine.type === 'q35' || (g.machine.type === undefined && s.machines.every((m) => m === 'q35'));
      if (g.cxl.length > 0 && !q35)
        ctx.addIssue({
          code: 'custom',
          path: ['guests', gname, 'cxl'],
          message: 'CXL needs a q35 machine: give this guest `machine: { type: q35 }`, or the scenario `machines: [q35]`',
        });
    }
    // A device named by id must be one the guest has: cold-plugged, or hot-plugged by an earlier step.
    const devicesOf = new Map(
      Object.entries(s.guests).map(([g, spec]) => [
        g,
        new Set([...spec.nvdimms.map((n) => `nvdimm:${n.id}`), ...spec['virtio-pmem'].map((v) => `virtio-pmem:${v.id}`)]),
      ]),
    );
    s.steps.forEach((st, i) => {
      if (st.hotplug && !st.hotplug.error) devicesOf.get(st.hotplug.guest)?.add(`${st.hotplug.kind}:${st.hotplug.id}`);
      for (const action of ['write', 'expect-data', 'expect-blockdev'] as const) {
        const args = st[action];
        if (!args || typeof args.device === 'string') continue;
        const [kind, id] = 'nvdimm' in args.device ? ['nvdimm', args.device.nvdimm] : ['virtio-pmem', args.device['virtio-pmem']];
        if (!devicesOf.get(args.guest)?.has(`${kind}:${id}`))
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, action, 'device'],
            message: `guest ${args.guest} has no ${kind} "${id}" by this step (cold-plugged, or hot-plugged by an earlier step)`,
          });
      }
    });
    s.steps.forEach((st, i) => {
      const fileRef = st['expect-file']?.file ?? st['prepare-file']?.file ?? st.hotplug?.backend.file;
      if (fileRef !== undefined && !(fileRef in s.files)) {
        const path = st['expect-file']
          ? ['steps', i, 'expect-file', 'file']
          : st['prepare-file']
            ? ['steps', i, 'prepare-file', 'file']
            : ['steps', i, 'hotplug', 'backend', 'file'];
        ctx.addIssue({
          code: 'custom',
          path,
          message: `no file "${fileRef}" in \`files\` (have: ${Object.keys(s.files).join(', ') || 'none'})`,
        });
      }
      for (const a of actionNames) {
        const v = st[a] as unknown;
        if (v === undefined || a === 'expect-file' || a === 'prepare-file') continue;
        const refs: [string, (string | number)[]][] = Array.isArray(v)
          ? v.map((g, j) => [g as string, ['steps', i, a, j]])
          : typeof v === 'string'
            ? [[v, ['steps', i, a]]]
            : [[(v as { guest: string }).guest, ['steps', i, a, 'guest']]];
        for (const [ref, path] of refs) {
          if (!(ref in s.guests))
            ctx.addIssue({ code: 'custom', path, message: `no guest "${ref}" in \`guests\` (have: ${Object.keys(s.guests).join(', ')})` });
        }
      }
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;

type BackendSpec = z.output<typeof backend>;

/** Every backend on a file, cold-plugged or hot-plugged, with where it is written. */
export function backendsOn(s: Pick<Scenario, 'guests' | 'steps'>, fileKey: string): [BackendSpec, (string | number)[]][] {
  const all: [BackendSpec, (string | number)[]][] = [
    ...Object.entries(s.guests).flatMap(([g, spec]) => [
      ...spec.nvdimms.map((n, i): [BackendSpec, (string | number)[]] => [n.backend, ['guests', g, 'nvdimms', i, 'backend']]),
      ...spec['virtio-pmem'].map((n, i): [BackendSpec, (string | number)[]] => [n.backend, ['guests', g, 'virtio-pmem', i, 'backend']]),
      ...spec.cxl.flatMap((n, i): [BackendSpec, (string | number)[]][] => [
        [n.backend, ['guests', g, 'cxl', i, 'backend']],
        [n.lsa, ['guests', g, 'cxl', i, 'lsa']],
      ]),
    ]),
    ...s.steps.flatMap((st, i): [BackendSpec, (string | number)[]][] =>
      st.hotplug ? [[st.hotplug.backend, ['steps', i, 'hotplug', 'backend']]] : [],
    ),
  ];
  return all.filter(([b]) => b.file === fileKey);
}
export type Step = Scenario['steps'][number];
