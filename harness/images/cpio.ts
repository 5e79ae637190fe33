/**
 * A writer for the "newc" cpio format the Linux kernel unpacks as an initramfs. Entries are built in memory
 * with their modes and device numbers, so making device nodes and root-owned files needs no root.
 */
export type CpioEntry =
  | { kind: 'file'; path: string; mode: number; data: Buffer }
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; mode: number; major: number; minor: number };

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

export function cpioArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    const data = e.kind === 'file' ? e.data : e.kind === 'symlink' ? Buffer.from(e.target) : Buffer.alloc(0);
    const mode =
      e.kind === 'file'
        ? S_IFREG | e.mode
        : e.kind === 'dir'
          ? S_IFDIR | e.mode
          : e.kind === 'symlink'
            ? S_IFLNK | 0o777
            : S_IFCHR | e.mode;
    const rdev = e.kind === 'chardev' ? [e.major, e.minor] : [0, 0];
    parts.push(header(ino++, mode, e.kind === 'dir' ? 2 : 1, data.length, rdev[0]!, rdev[1]!, name), data, pad(data.length));
  }
  parts.push(header(0, 0, 1, 0, 0, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

function header(ino: number, mode: number, nlink: number, size: number, rmaj: number, rmin: number, name: string): Buffer {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, nameBytes.length, 0];
  const head = Buffer.from(`070701${fields.map(hex).join('')}`);
  // The header (110 bytes) plus the name is padded to a multiple of 4.
  return Buffer.concat([head, nameBytes, pad(head.length + nameBytes.length)]);
}

function pad(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
