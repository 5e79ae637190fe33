import { describe, expect, it } from 'vitest';
import type { GuestSpec } from '../scenario/schema.js';
import { backendObject, nvdimmDevice, optValue, qemuArgv, shellCommand, type LaunchSpec, KERNEL_ARGS } from './argv.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;

function launch(guest: Partial<GuestSpec> = {}, over: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    guest: {
      machine: { type: 'pc', nvdimm: true },
      memory: { ram: 512 * M, slots: 2, maxmem: 2 * G },
      nvdimms: [{ id: 'nv1', backend: { file: 'plain', size: G, share: true }, 'label-size': 128 * K }],
      ...guest,
    },
    files: { plain: '/tmp/run/plain.img' },
    kernel: '/cache/vmlinux',
    initramfs: '/cache/initramfs.cpio',
    append: ['nvh.key=abc'],
    accel: 'tcg',
    qmpSocket: '/tmp/run/qmp.sock',
    sshPort: 40022,
    firmware: [],
    ...over,
  };
}

/** The value following each occurrence of `flag`. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

describe('optValue', () => {
  it('doubles commas and leaves everything else alone', () => {
    expect(optValue('/tmp/a,b')).toBe('/tmp/a,,b');
    expect(optValue('a,,b,')).toBe('a,,,,b,,');
    expect(optValue('/plain/path=x y')).toBe('/plain/path=x y');
  });
});

describe('backendObject', () => {
  it('writes a memory-backend-file with share, mem-path and size', () => {
    expect(backendObject('nv1', '/tmp/x.img', G, true)).toBe('memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/x.img,size=1G');
    expect(backendObject('nv2', '/tmp/y.img', G - 128 * K, false)).toBe(
      'memory-backend-file,id=mem-nv2,share=off,mem-path=/tmp/y.img,size=1048448K',
    );
  });

  it('escapes a comma in the path, so it cannot add an option', () => {
    const object = backendObject('nv1', '/tmp/a,share=off', G, true);
    expect(object).toBe('memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/a,,share=off,size=1G');
    // Split as QEMU does: ",," is a literal comma, a single "," separates options.
    const options = object.split(/(?<!,),(?!,)/);
    expect(options).toEqual(['memory-backend-file', 'id=mem-nv1', 'share=on', 'mem-path=/tmp/a,,share=off', 'size=1G']);
  });
});

describe('nvdimmDevice', () => {
  it('links the device to its backend and gives the label size when there is one', () => {
    expect(nvdimmDevice('nv1', 128 * K)).toBe('nvdimm,id=nv1,memdev=mem-nv1,label-size=128K');
    expect(nvdimmDevice('nv1', undefined)).toBe('nvdimm,id=nv1,memdev=mem-nv1');
  });
});

describe('qemuArgv', () => {
  it('gives the machine, memory, backend and nvdimm options of the QEMU vNVDIMM document', () => {
    const argv = qemuArgv(launch(), { plain: G });
    expect(values(argv, '-machine')).toEqual(['pc,nvdimm=on']);
    expect(values(argv, '-m')).toEqual(['512M,slots=2,maxmem=2G']);
    expect(values(argv, '-object')).toEqual(['memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/run/plain.img,size=1G']);
    expect(values(argv, '-device')).toContain('nvdimm,id=nv1,memdev=mem-nv1,label-size=128K');
    // The -object comes right before the -device that uses it.
    const object = argv.indexOf('-object');
    expect(argv.slice(object, object + 4)).toEqual([
      '-object',
      'memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/run/plain.img,size=1G',
      '-device',
      'nvdimm,id=nv1,memdev=mem-nv1,label-size=128K',
    ]);
  });

  it('boots the kernel and initramfs with the console and the extra words on the command line', () => {
    const argv = qemuArgv(launch(), { plain: G });
    expect(values(argv, '-kernel')).toEqual(['/cache/vmlinux']);
    expect(values(argv, '-initrd')).toEqual(['/cache/initramfs.cpio']);
    expect(values(argv, '-append')).toEqual([`${KERNEL_ARGS.join(' ')} nvh.key=abc`]);
    expect(values(argv, '-append')[0]).toMatch(/^console=ttyS0 /);
    expect(values(argv, '-accel')).toEqual(['tcg']);
    expect(argv).toContain('-nodefaults');
    // TCG's "max" CPU has RDRAND, so the guest's entropy is ready for sshd's host key at once.
    expect(values(argv, '-cpu')).toEqual(['max']);
  });

  it('uses -cpu host under KVM, and -L for each firmware folder', () => {
    const argv = qemuArgv(launch({}, { accel: 'kvm', firmware: ['/fw/a', '/fw/b'] }), { plain: G });
    expect(values(argv, '-accel')).toEqual(['kvm']);
    expect(values(argv, '-cpu')).toEqual(['host']);
    expect(values(argv, '-L')).toEqual(['/fw/a', '/fw/b']);
  });

  it('leaves out slots and maxmem when they are not given', () => {
    const argv = qemuArgv(launch({ memory: { ram: 512 * M } }), { plain: G });
    expect(values(argv, '-m')).toEqual(['512M']);
    const onlySlots = qemuArgv(launch({ memory: { ram: G, slots: 4 } }), { plain: G });
    expect(values(onlySlots, '-m')).toEqual(['1G,slots=4']);
  });

  it('leaves out nvdimm=on when machine.nvdimm is false', () => {
    const argv = qemuArgv(launch({ machine: { type: 'q35', nvdimm: false } }), { plain: G });
    expect(values(argv, '-machine')).toEqual(['q35']);
  });

  it('takes the size from the file when the backend gives none, and leaves label-size out when not given', () => {
    const argv = qemuArgv(launch({ nvdimms: [{ id: 'nv1', backend: { file: 'plain', share: false } }] }), { plain: 2 * G });
    expect(values(argv, '-object')).toEqual(['memory-backend-file,id=mem-nv1,share=off,mem-path=/tmp/run/plain.img,size=2G']);
    expect(values(argv, '-device')).toContain('nvdimm,id=nv1,memdev=mem-nv1');
  });

  it('gives one -object and -device pair per NVDIMM, in order', () => {
    const argv = qemuArgv(
      launch(
        {
          nvdimms: [
            { id: 'nv1', backend: { file: 'a', share: true } },
            { id: 'nv2', backend: { file: 'b', size: 512 * M, share: true }, 'label-size': 256 * K },
          ],
        },
        { files: { a: '/r/a.img', b: '/r/b.img' } },
      ),
      { a: G, b: G },
    );
    expect(values(argv, '-object')).toEqual([
      'memory-backend-file,id=mem-nv1,share=on,mem-path=/r/a.img,size=1G',
      'memory-backend-file,id=mem-nv2,share=on,mem-path=/r/b.img,size=512M',
    ]);
    expect(values(argv, '-device').filter((d) => d.startsWith('nvdimm,'))).toEqual([
      'nvdimm,id=nv1,memdev=mem-nv1',
      'nvdimm,id=nv2,memdev=mem-nv2,label-size=256K',
    ]);
  });

  it('escapes commas in backend paths and the QMP socket path', () => {
    const argv = qemuArgv(launch({}, { files: { plain: '/tmp/a,mem-path=/etc/passwd' }, qmpSocket: '/tmp/q,server=off' }), { plain: G });
    expect(values(argv, '-object')).toEqual(['memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/a,,mem-path=/etc/passwd,size=1G']);
    expect(values(argv, '-qmp')).toEqual(['unix:/tmp/q,,server=off,server=on,wait=off']);
  });

  it('forwards SSH on 127.0.0.1 only, with restricted user networking and no option ROM', () => {
    const argv = qemuArgv(launch(), { plain: G });
    const netdev = values(argv, '-netdev');
    expect(netdev).toEqual(['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22']);
    expect(values(argv, '-device')).toContain('virtio-net-pci,netdev=net0,romfile=');
    expect(argv.join(' ')).not.toMatch(/hostfwd=tcp::|0\.0\.0\.0/);
  });

  it('puts the serial console on stdio and starts no display', () => {
    const argv = qemuArgv(launch(), { plain: G });
    expect(values(argv, '-serial')).toEqual(['stdio']);
    expect(values(argv, '-display')).toEqual(['none']);
  });
});

describe('shellCommand', () => {
  it('leaves plain words unquoted', () => {
    expect(shellCommand('qemu-system-x86_64', ['-m', '512M,slots=2', '-machine', 'pc,nvdimm=on'])).toBe(
      'qemu-system-x86_64 -m 512M,slots=2 -machine pc,nvdimm=on',
    );
  });

  it('quotes words with spaces or shell characters, and single quotes inside them', () => {
    expect(shellCommand('/opt/my qemu', ['-append', 'console=ttyS0 quiet', "it's", '$HOME', 'a;b', ''])).toBe(
      `'/opt/my qemu' -append 'console=ttyS0 quiet' 'it'\\''s' '$HOME' 'a;b' ''`,
    );
  });

  it('puts the environment first, quoted the same way', () => {
    expect(shellCommand('qemu', ['-version'], { LD_LIBRARY_PATH: '/a/lib', MSG: 'a b' })).toBe(
      `LD_LIBRARY_PATH=/a/lib MSG='a b' qemu -version`,
    );
  });
});
