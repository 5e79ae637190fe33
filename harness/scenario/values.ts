/** The values scenario files are made of: sizes, names, version ranges, regular expressions, devices. */
import semver from 'semver';
import { z } from 'zod';
import { imageNames } from '../images/recipe.js';
import { parseSize } from './units.js';

const MAX_SIZE = 16 * 2 ** 40;

/** A regular expression, compiled when the file is loaded so that a bad one is found before anything boots. */
export const regex = z.string().refine(
  (r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);

/** A guest image: a recipe in images/. */
export const imageName = z.string().refine((name) => imageNames().includes(name), {
  error: (iss) => `no guest image "${String(iss.input)}"; images are ${imageNames().join(', ')}`,
});

export const size = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    try {
      return parseSize(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  })
  .refine((bytes) => bytes <= MAX_SIZE, { message: 'larger than 16T: no test host has that much' })
  .meta({ description: 'bytes, or a number with a unit: 128K, 512M, 1G; sums and differences: "1G - 128K"' });

/** An identifier that is safe inside QEMU's comma-separated option syntax and in file names. */
export const ident = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'expected a name of letters, digits, "_" and "-", starting with a letter');

// semver reads a typo like ">=x" as "*" (any version): only an explicit "*" or "x" may mean that.
export const versionRange = z.string().refine(
  (r) => {
    const range = semver.validRange(r);
    return range !== null && (range !== '*' || /^\s*[*xX]\s*$/.test(r));
  },
  { message: 'expected a version range such as ">=2.8", "<10.0" or "7.2.x"' },
);

export const onOff = z
  .union([z.boolean(), z.enum(['on', 'off'])])
  .transform((v) => v === true || v === 'on')
  .meta({ description: 'on or off (true/false)' });

export const sector = size.refine((b) => b % 512 === 0, { message: 'expected a multiple of 512 bytes (O_DIRECT works in whole sectors)' });
/** A guest's block device: its path, or the QEMU device whose block device it is (found at run time). */
export const device = z
  .union([
    z.string().regex(/^\/dev\/[A-Za-z0-9._-]+$/, 'expected a device path like /dev/pmem0'),
    z.strictObject({ nvdimm: ident }),
    z.strictObject({ 'virtio-pmem': ident }),
  ])
  .meta({
    description:
      "a path like /dev/pmem0, or { nvdimm: ID } / { virtio-pmem: ID }: that device's /dev/pmemN, found by its address, whatever the kernel numbered it",
  });
