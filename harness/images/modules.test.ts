import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modinfoAliases, modinfoDepends, resolveModules, withoutSignature } from './modules.js';

/** A stand-in for a .ko: ELF-ish bytes around a .modinfo section of NUL-separated key=value strings. */
function ko(...modinfo: string[]): Buffer {
  return Buffer.concat([
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0xff, 0x00]),
    Buffer.from(`\0${modinfo.join('\0')}\0`, 'latin1'),
    Buffer.from([0x00, 0x13, 0x37, 0x00]),
  ]);
}

describe('modinfoDepends', () => {
  it('reads the depends= list', () => {
    const data = ko(
      'license=GPL v2',
      'author=Intel Corporation',
      'depends=libnvdimm,nfit',
      'retpoline=Y',
      'intree=Y',
      'name=nd_pmem',
      'vermagic=6.1.0-50-amd64 SMP preempt mod_unload modversions ',
    );
    expect(modinfoDepends(data)).toEqual(['libnvdimm', 'nfit']);
  });

  it('reads the exact synthetic buffer', () => {
    expect(modinfoDepends(Buffer.from('junk\0depends=libnvdimm,nfit\0more'))).toEqual(['libnvdimm', 'nfit']);
  });

  it('gives no dependencies for an empty depends=', () => {
    expect(modinfoDepends(ko('license=GPL', 'depends=', 'name=libnvdimm'))).toEqual([]);
  });

  it('gives no dependencies when there is no depends=', () => {
    expect(modinfoDepends(ko('license=GPL', 'name=nd_btt'))).toEqual([]);
    expect(modinfoDepends(Buffer.alloc(0))).toEqual([]);
  });

  it('does not take a key that only ends in depends=', () => {
    expect(modinfoDepends(ko('softdepends=foo', 'name=x'))).toEqual([]);
    expect(modinfoDepends(ko('xdepends=foo', 'depends=bar', 'name=x'))).toEqual(['bar']);
  });

  it('reads a single dependency', () => {
    expect(modinfoDepends(ko('depends=libnvdimm', 'name=nd_pmem'))).toEqual(['libnvdimm']);
  });
});

describe('modinfoAliases', () => {
  it('reads every alias= entry, in order, and nothing that only ends in alias=', () => {
    const data = ko('alias=fs-ext4', 'license=GPL', 'alias=ext3', 'xalias=no', 'alias=fs-ext3', 'depends=jbd2', 'name=ext4');
    expect(modinfoAliases(data)).toEqual(['fs-ext4', 'ext3', 'fs-ext3']);
  });

  it('gives none for a module without aliases', () => {
    expect(modinfoAliases(ko('license=GPL', 'name=nd_btt'))).toEqual([]);
  });
});

describe('resolveModules without a modules folder', () => {
  it('takes what modules.builtin lists as built in, and names a needed driver that is not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvh-builtin-'));
    const builtin = join(dir, 'modules.builtin');
    await writeFile(builtin, 'kernel/drivers/acpi/nfit/nfit.ko\nkernel/drivers/nvdimm/libnvdimm.ko\nkernel/drivers/nvdimm/nd_pmem.ko\n');
    expect(await resolveModules({ builtin }, ['nfit', 'nd-pmem'])).toEqual([]);
    await expect(resolveModules({ builtin }, ['nfit', 'nd_btt'])).rejects.toThrow(
      `kernel module nd_btt (needed by the image recipe) is neither in a modules folder (none given) nor built in (${builtin})`,
    );
    await rm(dir, { recursive: true });
  });
});

describe('withoutSignature', () => {
  const body = ko('name=nd_btt', 'depends=libnvdimm');
  /** What sign-file appends: the PKCS#7 blob, its description (sig_len big-endian last), the marker. */
  const signed = (signature: Buffer) =>
    Buffer.concat([
      body,
      signature,
      Buffer.from([0, 0, 2, 0, 0, 0, 0, 0]),
      Buffer.from([0, 0, 0, signature.length]),
      Buffer.from('~Module signature appended~\n'),
    ]);

  it('cuts the signature, its description and the marker off a signed module', () => {
    expect(withoutSignature(signed(Buffer.alloc(0x2a9 - 0x200, 0x30)))).toEqual(body);
    expect(withoutSignature(signed(Buffer.from([0x30, 0x82, 0x02])))).toEqual(body);
  });

  it('leaves a module without a signature as it is', () => {
    expect(withoutSignature(body)).toBe(body);
    expect(withoutSignature(Buffer.from('~Module signature appended~\n'))).toEqual(Buffer.from('~Module signature appended~\n'));
  });

  it('refuses a signature longer than the module', () => {
    const broken = Buffer.concat([Buffer.alloc(12), Buffer.from('~Module signature appended~\n')]);
    broken.writeUInt32BE(1000, 8);
    expect(() => withoutSignature(broken)).toThrow('a module signature of 1000 bytes in a module of 40');
  });
});
