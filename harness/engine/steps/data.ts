/** Steps that move data: a pattern written through a guest's device or into a host file, and looked for in either. */
import { open } from 'node:fs/promises';
import { CheckFailure, GuestCommandError } from '../../errors.js';
import { formatSize } from '../../scenario/units.js';
import { checkEqual, patternMismatch, SIZE_NUDGE } from '../checks.js';
import { ddBlocks, patternBytes, sha256 } from '../pattern.js';
import { CHUNK, contentDifference, fileContent, fileSha256, type FileContent } from '../file-content.js';
import type { PlannedArgs } from '../../scenario/plan.js';
import { blockDevice, describeDevice } from './block-device.js';
import { mutant, type Mutant, type StepKinds } from './kind.js';

/**
 * By path: busybox's shell runs its own dd applet for a bare `dd`, and an image may put a dd that knows
 * O_DIRECT at /bin/dd instead (bullseye's busybox 1.30 does not).
 */
const DD = '/bin/dd';

export const dataSteps: StepKinds<'write' | 'expect-data' | 'expect-file' | 'prepare-file'> = {
  'prepare-file': {
    title: (a) => `write pattern "${a.pattern}" into host file ${a.file} at offset ${formatSize(a.offset)}, ${formatSize(a.length)}`,
    async run(_run, a) {
      // The loader refuses this; checked again as the last word before the harness writes a file.
      if (!a.file.writable) throw new CheckFailure(`host file ${a.file.name} is not writable for this scenario`, 'writable', 'read-only');
      const handle = await open(a.file.path, 'r+');
      try {
        await handle.write(patternBytes(a.pattern, a.length), 0, a.length, a.offset);
      } finally {
        await handle.close();
      }
    },
  },
  write: {
    title: (a) =>
      `${a.guest}: write pattern "${a.pattern}" to ${describeDevice(a.device)} at offset ${formatSize(a.offset)}, ${formatSize(a.length)}, O_DIRECT`,
    async run(run, a, ctx) {
      const { bs, start, count } = ddBlocks(a.offset, a.length);
      const path = await blockDevice(run.guest(a.guest), a.device, ctx.commandTimeoutMs);
      const r = await run
        .guest(a.guest)
        .exec(
          `${DD} of=${path} bs=${bs} seek=${start} count=${count} iflag=fullblock oflag=direct 2>&1`,
          patternBytes(a.pattern, a.length),
          ctx.commandTimeoutMs,
        );
      if (r.code !== 0)
        throw new GuestCommandError({
          why: `writing to ${path} in ${a.guest.name} failed (dd status ${r.code})`,
          evidence: [['dd', r.stdout]],
        });
    },
  },
  'expect-data': {
    title: (a) =>
      `${a.guest}: ${describeDevice(a.device)} at offset ${formatSize(a.offset)}, ${formatSize(a.length)}, ${a.match ? 'holds' : 'does not hold'} pattern "${a.pattern}"`,
    async observe(run, a, ctx): Promise<DeviceRead> {
      const { bs, start, count } = ddBlocks(a.offset, a.length);
      const path = await blockDevice(run.guest(a.guest), a.device, ctx.commandTimeoutMs);
      // Read into the guest's RAM and report each fact on its own labelled line: the byte count and dd's
      // status tell a failed or short read from different data.
      const r = await run
        .guest(a.guest)
        .exec(
          `[ -e ${path} ] || { echo "${path} does not exist" >&2; exit 3; }; f=$(mktemp) && e=$(mktemp) && ` +
            `{ ${DD} if=${path} of=$f bs=${bs} skip=${start} count=${count} iflag=direct 2>$e; echo "dd=$?"; ` +
            `echo "read=$(wc -c < $f)"; echo "sha=$(sha256sum < $f)"; echo "head=$(od -An -tx1 -N16 $f)"; cat $e >&2; rm -f $f $e; }`,
          undefined,
          ctx.commandTimeoutMs,
        );
      const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(r.stdout)?.[1]?.trim();
      return {
        path,
        code: r.code,
        status: field('dd'),
        read: Number(field('read')),
        sha256: field('sha')?.split(' ')[0],
        head: field('head'),
        stderr: r.stderr,
      };
    },
    judge(a, seen: DeviceRead) {
      const { status, read } = seen;
      if (seen.code !== 0 || status !== '0' || read !== a.length) {
        throw new CheckFailure(
          {
            why: `reading ${formatSize(a.length)} of ${seen.path} in ${a.guest.name} at offset ${a.offset} failed: dd status ${status ?? seen.code}, ${Number.isNaN(read) ? 'nothing' : read} bytes read`,
            evidence: [['dd', seen.stderr]],
          },
          `${a.length} bytes read`,
          `${Number.isNaN(read) ? 0 : read} bytes read`,
        );
      }
      const found = seen.sha256 === sha256(patternBytes(a.pattern, a.length));
      if (found !== a.match)
        throw patternMismatch(
          `${seen.path} in ${a.guest.name} at ${a.offset}`,
          a.pattern,
          a.match,
          found,
          `read bytes starting with ${seen.head || '(nothing)'}`,
        );
    },
    mutants: (a) => patternMutants(a),
  },
  'expect-file': {
    title: (a) => {
      const parts: string[] = [];
      if (a.size !== undefined) parts.push(`is ${formatSize(a.size)}`);
      if (a.unchanged !== undefined) parts.push(a.unchanged ? 'is unchanged byte for byte' : 'has changed');
      if (a.sha256 !== undefined) parts.push(`has SHA-256 ${a.sha256.slice(0, 12)}...`);
      if (a.pattern !== undefined)
        parts.push(
          `${a.match ? 'holds' : 'does not hold'} pattern "${a.pattern}" at offset ${formatSize(a.offset)}, ${formatSize(a.length!)}`,
        );
      return `host file ${a.file} ${parts.join(', ')}`;
    },
    async observe(run, a): Promise<FileSeen> {
      const { name, path } = a.file;
      const handle = await open(path, 'r');
      try {
        const seen: FileSeen = { size: (await handle.stat()).size };
        if (a.length !== undefined) {
          const { buffer, bytesRead } = await handle.read(Buffer.alloc(a.length), 0, a.length, a.offset);
          seen.range = buffer.subarray(0, bytesRead);
        }
        if (a.unchanged !== undefined) seen.content = { before: run.initialContents[name]!, now: await fileContent(path) };
        if (a.sha256 !== undefined) seen.sha256 = await fileSha256(path);
        return seen;
      } finally {
        await handle.close();
      }
    },
    judge(a, seen: FileSeen) {
      const { name } = a.file;
      if (a.size !== undefined) checkEqual(`size of host file ${name}`, a.size, seen.size);
      if (a.pattern !== undefined) {
        const range = seen.range!;
        // A negative match means nothing if the range was not all there to compare.
        if (range.length !== a.length)
          throw new CheckFailure(
            `host file ${name} holds ${range.length} of the ${a.length} bytes at offset ${a.offset}`,
            a.length,
            range.length,
          );
        const found = range.equals(patternBytes(a.pattern, a.length));
        if (found !== a.match)
          throw patternMismatch(
            `host file ${name} at ${a.offset}`,
            a.pattern,
            a.match,
            found,
            `found bytes starting with ${range.subarray(0, 16).toString('hex')}`,
          );
      }
      if (a.sha256 !== undefined) checkEqual(`SHA-256 of host file ${name}`, a.sha256, seen.sha256!);
      if (a.unchanged !== undefined) {
        const { before, now } = seen.content!;
        const difference = contentDifference(before, now);
        const changed = difference.size || difference.chunks.length > 0;
        if (changed === a.unchanged)
          throw new CheckFailure(
            `host file ${name} ${changed ? `changed since the scenario started: ${describeChange(before, now, difference)}` : `is unchanged: all ${formatSize(now.size)} as when the scenario started`}`,
            a.unchanged ? 'unchanged' : 'changed',
            a.unchanged ? 'changed' : 'unchanged',
          );
      }
    },
    mutants: (a) => [
      ...(a.size !== undefined ? [mutant<'expect-file'>(`size+${SIZE_NUDGE}`, a, { size: a.size + SIZE_NUDGE })] : []),
      ...(a.unchanged !== undefined ? [mutant<'expect-file'>('unchanged inverted', a, { unchanged: !a.unchanged })] : []),
      ...(a.sha256 !== undefined
        ? [mutant<'expect-file'>('sha256 changed', a, { sha256: `${a.sha256.slice(0, -1)}${a.sha256.endsWith('0') ? '1' : '0'}` })]
        : []),
      ...(a.pattern !== undefined ? patternMutants(a) : []),
    ],
  },
};

interface DeviceRead {
  /** The device read, as found in the guest. */
  path: string;
  code: number;
  status: string | undefined;
  read: number;
  sha256: string | undefined;
  head: string | undefined;
  stderr: string;
}

interface FileSeen {
  size: number;
  /** The bytes of the checked range that the file has. */
  range?: Buffer;
  /** For `unchanged`: the file's content when the scenario started, and now. */
  content?: { before: FileContent; now: FileContent };
  /** For `sha256`. */
  sha256?: string;
}

function describeChange(before: FileContent, now: FileContent, difference: ReturnType<typeof contentDifference>): string {
  if (difference.size) return `it was ${formatSize(before.size)}, it is ${formatSize(now.size)}`;
  const [first] = difference.chunks;
  return `${difference.chunks.length} of its ${CHUNK >> 20} MiB chunks differ, the first at offset ${formatSize(first! * CHUNK)}`;
}

/**
 * `match` inverted; and for a positive match, another pattern. (Another pattern of a negative match would
 * still not be there: no mutant.)
 */
function patternMutants<K extends 'expect-data' | 'expect-file'>(a: PlannedArgs<K>): Mutant<K>[] {
  const args = a as PlannedArgs<'expect-data'>;
  const out = [mutant<'expect-data'>('match inverted', args, { match: !args.match })];
  if (args.match) out.push(mutant<'expect-data'>('another pattern', args, { pattern: `${args.pattern}-mutant` }));
  return out as unknown as Mutant<K>[];
}
