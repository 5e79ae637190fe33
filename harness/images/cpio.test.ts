import { describe, expect, it } from 'vitest';
import { cpioArchive, type CpioEntry } from './cpio.js';

interface Parsed {
  offset: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
  check: number;
  name: string;
  data: Buffer;
}

const HEADER = 110;
const FIELDS = [
  'ino',
  'mode',
  'uid',
  'gid',
  'nlink',
  'mtime',
  'filesize',
  'devmajor',
  'devminor',
  'rdevmajor',
  'rdevminor',
  'namesize',
  'check',
] as const;

/** Reads a newc archive the way the kernel's initramfs unpacker does, checking every rule of the format. */
function parseNewc(archive: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let at = 0;
  for (;;) {
    expect(at % 4, `entry at ${at} is 4-byte aligned`).toBe(0);
    expect(archive.length).toBeGreaterThanOrEqual(at + HEADER);
    const head = archive.toString('latin1', at, at + HEADER);
    expect(head.slice(0, 6)).toBe('070701');
    expect(head.slice(6)).toMatch(/^[0-9a-f]{104}$/);
    const f = Object.fromEntries(FIELDS.map((k, i) => [k, parseInt(head.slice(6 + i * 8, 14 + i * 8), 16)])) as Record<
      (typeof FIELDS)[number],
      number
    >;
    const nameStart = at + HEADER;
    const nameBytes = archive.subarray(nameStart, nameStart + f.namesize);
    expect(nameBytes[f.namesize - 1], 'name is NUL-terminated').toBe(0);
    expect(nameBytes.subarray(0, f.namesize - 1).includes(0), 'name has a single NUL').toBe(false);
    const name = nameBytes.toString('utf8', 0, f.namesize - 1);
    const dataStart = align4(nameStart + f.namesize);
    expect(
      archive.subarray(nameStart + f.namesize, dataStart).every((b) => b === 0),
      'name padding is zeros',
    ).toBe(true);
    const data = archive.subarray(dataStart, dataStart + f.filesize);
    const next = align4(dataStart + f.filesize);
    expect(
      archive.subarray(dataStart + f.filesize, next).every((b) => b === 0),
      'data padding is zeros',
    ).toBe(true);
    out.push({ offset: at, ...f, name, data: Buffer.from(data) });
    at = next;
    if (name === 'TRAILER!!!') break;
  }
  expect(at, 'nothing after the trailer').toBe(archive.length);
  return out;
}

const align4 = (n: number) => (n + 3) & ~3;

describe('cpioArchive', () => {
  const entries: CpioEntry[] = [
    { kind: 'dir', path: '/dev', mode: 0o755 },
    { kind: 'chardev', path: '/dev/console', mode: 0o600, major: 5, minor: 1 },
    { kind: 'chardev', path: 'dev/null', mode: 0o666, major: 1, minor: 3 },
    { kind: 'file', path: '/init', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { kind: 'symlink', path: '/bin/sh', target: 'busybox' },
    { kind: 'file', path: '/empty', mode: 0o644, data: Buffer.alloc(0) },
    { kind: 'file', path: '/etc/a', mode: 0o600, data: Buffer.from('x') },
    { kind: 'file', path: '/etc/four', mode: 0o644, data: Buffer.from('abcd') },
    { kind: 'file', path: '/bin/binary', mode: 0o755, data: Buffer.from([0, 1, 2, 255, 0, 7, 9]) },
  ];
  // Parsed inside each test, so that a malformed archive fails the tests rather than the file's collection.
  const parse = () => parseNewc(cpioArchive(entries));

  it('writes one entry per input, in order, then TRAILER!!!', () => {
    const parsed = parse();
    expect(parsed.map((p) => p.name)).toEqual([
      'dev',
      'dev/console',
      'dev/null',
      'init',
      'bin/sh',
      'empty',
      'etc/a',
      'etc/four',
      'bin/binary',
      'TRAILER!!!',
    ]);
  });

  it('gives each entry a distinct inode, root ownership and a name size counting the NUL', () => {
    const parsed = parse();
    const real = parsed.slice(0, -1);
    expect(new Set(real.map((p) => p.ino)).size).toBe(real.length);
    for (const p of real) {
      expect(p.ino).toBeGreaterThan(0);
      expect(p.uid).toBe(0);
      expect(p.gid).toBe(0);
      expect(p.namesize).toBe(Buffer.byteLength(p.name) + 1);
      expect(p.check).toBe(0);
    }
  });

  it('writes file modes and contents', () => {
    const parsed = parse();
    const init = parsed.find((p) => p.name === 'init')!;
    expect(init.mode).toBe(0o100755);
    expect(init.nlink).toBe(1);
    expect(init.filesize).toBe(18);
    expect(init.data.toString()).toBe('#!/bin/sh\necho hi\n');
    const empty = parsed.find((p) => p.name === 'empty')!;
    expect(empty.mode).toBe(0o100644);
    expect(empty.filesize).toBe(0);
    expect(parsed.find((p) => p.name === 'etc/a')!.mode).toBe(0o100600);
    expect(parsed.find((p) => p.name === 'etc/a')!.data.toString()).toBe('x');
    expect(parsed.find((p) => p.name === 'etc/four')!.data.toString()).toBe('abcd');
    expect([...parsed.find((p) => p.name === 'bin/binary')!.data]).toEqual([0, 1, 2, 255, 0, 7, 9]);
  });

  it('writes directories with two links', () => {
    const parsed = parse();
    const dev = parsed.find((p) => p.name === 'dev')!;
    expect(dev.mode).toBe(0o040755);
    expect(dev.nlink).toBe(2);
    expect(dev.filesize).toBe(0);
  });

  it('writes symlinks with mode 0777 and the target as their data', () => {
    const parsed = parse();
    const sh = parsed.find((p) => p.name === 'bin/sh')!;
    expect(sh.mode).toBe(0o120777);
    expect(sh.data.toString()).toBe('busybox');
    expect(sh.filesize).toBe(7);
  });

  it('writes character devices with their major and minor in rdev', () => {
    const parsed = parse();
    const console = parsed.find((p) => p.name === 'dev/console')!;
    expect(console.mode).toBe(0o020600);
    expect([console.rdevmajor, console.rdevminor]).toEqual([5, 1]);
    expect(console.filesize).toBe(0);
    const nul = parsed.find((p) => p.name === 'dev/null')!;
    expect(nul.mode).toBe(0o020666);
    expect([nul.rdevmajor, nul.rdevminor]).toEqual([1, 3]);
    for (const p of parsed.filter((q) => !q.name.startsWith('dev/'))) expect([p.rdevmajor, p.rdevminor]).toEqual([0, 0]);
  });

  it('pads names and data to 4 bytes whatever their lengths', () => {
    // Names of every length mod 4 and data of every length mod 4.
    const many: CpioEntry[] = [];
    for (let n = 1; n <= 8; n++) {
      for (let d = 0; d <= 5; d++) many.push({ kind: 'file', path: `${'n'.repeat(n)}${d}`, mode: 0o644, data: Buffer.alloc(d, d + 1) });
    }
    const out = parseNewc(cpioArchive(many));
    expect(out).toHaveLength(many.length + 1);
    out.slice(0, -1).forEach((p, i) => {
      const e = many[i] as Extract<CpioEntry, { kind: 'file' }>;
      expect(p.name).toBe(e.path);
      expect(p.data.equals(e.data)).toBe(true);
    });
  });

  it('writes only the trailer for no entries', () => {
    const out = cpioArchive([]);
    const parsedEmpty = parseNewc(out);
    expect(parsedEmpty.map((p) => p.name)).toEqual(['TRAILER!!!']);
    expect(parsedEmpty[0]).toMatchObject({ ino: 0, mode: 0, nlink: 1, filesize: 0, namesize: 11 });
    expect(out.length).toBe(align4(HEADER + 11));
  });

  it('keeps multi-byte UTF-8 names whole, counting bytes not characters', () => {
    const out = parseNewc(cpioArchive([{ kind: 'file', path: '/étude', mode: 0o644, data: Buffer.from('é') }]));
    expect(out[0]!.name).toBe('étude');
    expect(out[0]!.namesize).toBe(7);
    expect(out[0]!.data.toString()).toBe('é');
  });
});
