import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseScenario } from '../scenario/load.js';
import { plan, type PlannedMachine } from '../scenario/plan.js';
import { KERNEL_ARGS, qemuArgv, type Launch } from './argv.js';

/** The planned machine of a one-guest scenario, its files made in /tmp/run. */
function machine(
  guest: Record<string, unknown> = {},
  files: Record<string, unknown> = { plain: { size: '1G' } },
  runDir = '/tmp/run',
): PlannedMachine {
  const text = stringify({
    name: 'argv',
    files,
    guests: {
      vm: {
        memory: { ram: '512M', slots: 2, maxmem: '2G' },
        nvdimms: [{ id: 'nv1', backend: { file: 'plain', size: '1G' }, 'label-size': '128K' }],
        ...guest,
      },
    },
    steps: [{ boot: 'vm' }],
  });
  return plan(parseScenario(text, 'argv.yaml'), runDir).machines.vm!;
}

function launch(over: Partial<Launch> = {}): Launch {
  return {
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

describe('qemuArgv', () => {
  it('gives the machine, memory, backend and nvdimm options of the QEMU vNVDIMM document', () => {
    const argv = qemuArgv(machine(), launch());
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
    const argv = qemuArgv(machine(), launch());
    expect(values(argv, '-kernel')).toEqual(['/cache/vmlinux']);
    expect(values(argv, '-initrd')).toEqual(['/cache/initramfs.cpio']);
    expect(values(argv, '-append')).toEqual([`console=ttyS0 ${KERNEL_ARGS.join(' ')} noreplace-smp noapictimer nvh.key=abc`]);
    expect(values(argv, '-append')[0]).toMatch(/^console=ttyS0 /);
    expect(values(argv, '-accel')).toEqual(['tcg']);
    expect(argv).toContain('-nodefaults');
    // RDRAND, so that the guest's entropy is ready for sshd at once.
    expect(values(argv, '-cpu')).toEqual(['qemu64,+rdrand']);
  });

  it('uses -cpu host under KVM, and -L for each firmware folder', () => {
    const argv = qemuArgv(machine(), launch({ accel: 'kvm', firmware: ['/fw/a', '/fw/b'] }));
    expect(values(argv, '-accel')).toEqual(['kvm']);
    // The local APIC timer's calibration is a TCG cost: KVM guests keep their timer.
    expect(values(argv, '-append')[0]).not.toMatch(/noapictimer/);
    expect(values(argv, '-cpu')).toEqual(['host']);
    expect(values(argv, '-L')).toEqual(['/fw/a', '/fw/b']);
  });

  it('leaves out slots and maxmem when they are not given', () => {
    const argv = qemuArgv(machine({ memory: { ram: '512M' }, nvdimms: [] }), launch());
    expect(values(argv, '-m')).toEqual(['512M']);
    const onlySlots = qemuArgv(machine({ memory: { ram: '1G', slots: 4 }, nvdimms: [] }), launch());
    expect(values(onlySlots, '-m')).toEqual(['1G,slots=4']);
  });

  it('leaves out nvdimm=on when machine.nvdimm is false', () => {
    const argv = qemuArgv(machine({ machine: { type: 'q35', nvdimm: false } }), launch());
    expect(values(argv, '-machine')).toEqual(['q35']);
  });

  it('takes the size from the file when the backend gives none, and leaves label-size out when not given', () => {
    const argv = qemuArgv(
      machine({ nvdimms: [{ id: 'nv1', backend: { file: 'plain', share: false } }] }, { plain: { size: '2G' } }),
      launch(),
    );
    expect(values(argv, '-object')).toEqual(['memory-backend-file,id=mem-nv1,share=off,mem-path=/tmp/run/plain.img,size=2G']);
    expect(values(argv, '-device')).toContain('nvdimm,id=nv1,memdev=mem-nv1');
  });

  it('gives one -object and -device pair per NVDIMM, in order', () => {
    const argv = qemuArgv(
      machine(
        {
          nvdimms: [
            { id: 'nv1', backend: { file: 'a' } },
            { id: 'nv2', backend: { file: 'b', size: '512M' }, 'label-size': '256K' },
          ],
        },
        { a: { size: '1G' }, b: { size: '1G' } },
      ),
      launch(),
    );
    expect(values(argv, '-object')).toEqual([
      'memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/run/a.img,size=1G',
      'memory-backend-file,id=mem-nv2,share=on,mem-path=/tmp/run/b.img,size=512M',
    ]);
    expect(values(argv, '-device').filter((d) => d.startsWith('nvdimm,'))).toEqual([
      'nvdimm,id=nv1,memdev=mem-nv1',
      'nvdimm,id=nv2,memdev=mem-nv2,label-size=256K',
    ]);
  });

  it('gives a virtio-pmem-pci device on its backend, after the NVDIMMs', () => {
    const argv = qemuArgv(machine({ 'virtio-pmem': [{ id: 'vp1', backend: { file: 'plain', size: '256M', share: 'off' } }] }), launch());
    expect(values(argv, '-object')).toEqual([
      'memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/run/plain.img,size=1G',
      'memory-backend-file,id=mem-vp1,share=off,mem-path=/tmp/run/plain.img,size=256M',
    ]);
    expect(values(argv, '-device').slice(-2)).toEqual([
      'nvdimm,id=nv1,memdev=mem-nv1,label-size=128K',
      'virtio-pmem-pci,id=vp1,memdev=mem-vp1',
    ]);
  });

  it("gives q35 guests the run's machine type unless they name one, and a root port per hot-plugged virtio-pmem device", () => {
    const text = stringify({
      name: 'q35',
      files: { f: { size: '1G' } },
      guests: {
        vm: { memory: { ram: '512M', slots: 2, maxmem: '4G' } },
        pinned: { machine: { type: 'pc' }, memory: { ram: '512M', slots: 2, maxmem: '4G' } },
      },
      steps: [
        { boot: ['vm', 'pinned'] },
        { hotplug: { guest: 'vm', kind: 'virtio-pmem', id: 'vp1', backend: { file: 'f' } } },
        { hotplug: { guest: 'vm', kind: 'virtio-pmem', id: 'vp2', backend: { ram: '64M' } } },
        { hotplug: { guest: 'vm', id: 'nv1', backend: { file: 'f' } } },
        { hotplug: { guest: 'pinned', kind: 'virtio-pmem', id: 'vp3', backend: { file: 'f' } } },
      ],
    });
    const p = plan(parseScenario(text, 'q35.yaml'), '/tmp/run', 'q35');
    const vm = qemuArgv(p.machines.vm!, launch());
    expect(values(vm, '-machine')).toEqual(['q35,nvdimm=on']);
    expect(values(vm, '-device').filter((d) => d.startsWith('pcie-root-port'))).toEqual([
      'pcie-root-port,id=port-vp1,chassis=1',
      'pcie-root-port,id=port-vp2,chassis=2',
    ]);
    const hotplugs = p.steps.flatMap((s) => (s.action === 'hotplug' ? [s.args.device.deviceQmp] : []));
    expect(hotplugs[0]).toEqual({ driver: 'virtio-pmem-pci', id: 'vp1', memdev: 'mem-vp1', bus: 'port-vp1' });
    expect(hotplugs[2]).not.toHaveProperty('bus');
    // A guest that names pc stays pc, with no root ports, and its hot-plugged device on the root bus.
    expect(values(qemuArgv(p.machines.pinned!, launch()), '-machine')).toEqual(['pc,nvdimm=on']);
    expect(p.machines.pinned!.hotplugPorts).toEqual([]);
    expect(hotplugs[3]).not.toHaveProperty('bus');
  });

  it('builds the CXL topology: cxl=on, host bridge, a root port and a type-3 device each, the window, with hypervisor off', () => {
    const text = stringify({
      name: 'cxl',
      machines: ['q35'],
      files: { a: { size: '256M' }, b: { size: '512M' }, l: { size: '128K' } },
      guests: {
        vm: {
          memory: { ram: '512M' },
          cxl: [
            { id: 'c1', backend: { file: 'a' }, lsa: { file: 'l' } },
            { id: 'c2', backend: { file: 'b' }, lsa: { ram: '128K' } },
          ],
        },
      },
      steps: [{ boot: 'vm' }],
    });
    const argvFor = (version: string) => qemuArgv(plan(parseScenario(text, 'cxl.yaml'), '/tmp/run', 'q35', version).machines.vm!, launch());
    const argv = argvFor('10.0.0');
    expect(values(argv, '-machine')).toEqual(['q35,nvdimm=on,cxl=on', 'cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=768M']);
    expect(values(argv, '-cpu')).toEqual(['qemu64,+rdrand,hypervisor=off']);
    expect(values(argv, '-object')).toEqual([
      'memory-backend-file,id=mem-c1,share=on,mem-path=/tmp/run/a.img,size=256M',
      'memory-backend-file,id=mem-c1-lsa,share=on,mem-path=/tmp/run/l.img,size=128K',
      'memory-backend-file,id=mem-c2,share=on,mem-path=/tmp/run/b.img,size=512M',
      'memory-backend-ram,id=mem-c2-lsa,share=off,size=128K',
    ]);
    expect(values(argv, '-device').slice(-5)).toEqual([
      'pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1',
      'cxl-rp,port=0,bus=cxl.1,id=rp-c1,chassis=0,slot=2',
      'cxl-type3,bus=rp-c1,persistent-memdev=mem-c1,lsa=mem-c1-lsa,id=c1,sn=1',
      'cxl-rp,port=1,bus=cxl.1,id=rp-c2,chassis=0,slot=3',
      'cxl-type3,bus=rp-c2,persistent-memdev=mem-c2,lsa=mem-c2-lsa,id=c2,sn=2',
    ]);
    // QEMU 7.2 names the backend memdev=.
    expect(values(argvFor('7.2.22'), '-device')).toContain('cxl-type3,bus=rp-c1,memdev=mem-c1,lsa=mem-c1-lsa,id=c1,sn=1');
    // No CXL, no window and the hypervisor bit as it is.
    expect(values(qemuArgv(machine(), launch()), '-cpu')).toEqual(['qemu64,+rdrand']);
  });

  it('splits the RAM between NUMA nodes, CPUs on node 0, and passes an NVDIMM its node and uuid', () => {
    const argv = qemuArgv(
      machine({
        numa: 2,
        cpus: 2,
        nvdimms: [{ id: 'nv1', backend: { file: 'plain' }, node: 1, uuid: '6a1c2b3d-0000-4000-8000-000000000001' }],
      }),
      launch(),
    );
    expect(values(argv, '-numa')).toEqual(['node,nodeid=0,cpus=0-1,memdev=ram-node0', 'node,nodeid=1,memdev=ram-node1']);
    expect(values(argv, '-object').slice(0, 2)).toEqual([
      'memory-backend-ram,id=ram-node0,size=256M',
      'memory-backend-ram,id=ram-node1,size=256M',
    ]);
    expect(values(argv, '-device')).toContain('nvdimm,id=nv1,memdev=mem-nv1,node=1,uuid=6a1c2b3d-0000-4000-8000-000000000001');
    expect(values(qemuArgv(machine(), launch()), '-numa')).toEqual([]);
  });

  it('escapes commas in backend paths and the QMP socket path', () => {
    const argv = qemuArgv(machine({}, undefined, '/tmp/a,mem-path=/etc'), launch({ qmpSocket: '/tmp/q,server=off' }));
    expect(values(argv, '-object')).toEqual(['memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/a,,mem-path=/etc/plain.img,size=1G']);
    expect(values(argv, '-qmp')).toEqual(['unix:/tmp/q,,server=off,server=on,wait=off']);
  });

  it('forwards SSH on 127.0.0.1 only, with restricted user networking and no option ROM', () => {
    const argv = qemuArgv(machine(), launch());
    const netdev = values(argv, '-netdev');
    expect(netdev).toEqual(['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22']);
    expect(values(argv, '-device')).toContain('virtio-net-pci,netdev=net0,romfile=');
    expect(argv.join(' ')).not.toMatch(/hostfwd=tcp::|0\.0\.0\.0/);
  });

  it('puts the serial console on stdio and starts no display', () => {
    const argv = qemuArgv(machine(), launch());
    expect(values(argv, '-serial')).toEqual(['stdio']);
    expect(values(argv, '-display')).toEqual(['none']);
  });
});
