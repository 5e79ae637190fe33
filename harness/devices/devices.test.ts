import { describe, expect, it } from 'vitest';
import { backendObject, backendQmp } from './backend.js';
import { nvdimmDevice, nvdimmQmp } from './nvdimm.js';
import { virtioPmemDevice, virtioPmemQmp } from './virtio-pmem.js';

const K = 2 ** 10;
const G = 2 ** 30;
const backend = { id: 'mem-nv1', kind: 'file' as const, path: '/tmp/x.img', size: G, share: true };

describe('backendObject', () => {
  it('writes a memory-backend-file with share, mem-path and size', () => {
    expect(backendObject({ id: 'mem-nv1', kind: 'file' as const, path: '/tmp/x.img', size: G, share: true })).toBe(
      'memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/x.img,size=1G',
    );
    expect(backendObject({ id: 'mem-nv2', kind: 'file' as const, path: '/tmp/y.img', size: G - 128 * K, share: false })).toBe(
      'memory-backend-file,id=mem-nv2,share=off,mem-path=/tmp/y.img,size=1048448K',
    );
  });

  it('escapes a comma in the path, so it cannot add an option', () => {
    const object = backendObject({ id: 'mem-nv1', kind: 'file' as const, path: '/tmp/a,share=off', size: G, share: true });
    expect(object).toBe('memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/a,,share=off,size=1G');
    // Split as QEMU does: ",," is a literal comma, a single "," separates options.
    const options = object.split(/(?<!,),(?!,)/);
    expect(options).toEqual(['memory-backend-file', 'id=mem-nv1', 'share=on', 'mem-path=/tmp/a,,share=off', 'size=1G']);
  });

  it('writes a RAM or memfd backend with no path, and the file options only when given', () => {
    expect(backendObject({ id: 'mem-nv1', kind: 'ram', size: G, share: false })).toBe('memory-backend-ram,id=mem-nv1,share=off,size=1G');
    expect(backendQmp({ id: 'mem-nv1', kind: 'memfd', size: G, share: true })).toEqual({
      'qom-type': 'memory-backend-memfd',
      id: 'mem-nv1',
      size: G,
      share: true,
    });
    const file = { ...backend, offset: 64 * 2 ** 20, align: 2 * 2 ** 20, pmem: true };
    expect(backendObject(file)).toBe('memory-backend-file,id=mem-nv1,share=on,mem-path=/tmp/x.img,size=1G,offset=64M,align=2M,pmem=on');
    expect(backendQmp(file)).toMatchObject({ offset: 64 * 2 ** 20, align: 2 * 2 ** 20, pmem: true });
  });
});

describe('nvdimmDevice', () => {
  it('links the device to its backend and gives the label size when there is one', () => {
    expect(nvdimmDevice({ id: 'nv1', backend, labelSize: 128 * K })).toBe('nvdimm,id=nv1,memdev=mem-nv1,label-size=128K');
    expect(nvdimmDevice({ id: 'nv1', backend, labelSize: undefined })).toBe('nvdimm,id=nv1,memdev=mem-nv1');
  });
});

describe('QMP arguments', () => {
  it('give the same backend and device as the command line, sizes in bytes', () => {
    expect(backendQmp(backend)).toEqual({
      'qom-type': 'memory-backend-file',
      id: 'mem-nv1',
      'mem-path': '/tmp/x.img',
      size: G,
      share: true,
    });
    expect(nvdimmQmp({ id: 'nv1', backend, labelSize: 128 * K })).toEqual({
      driver: 'nvdimm',
      id: 'nv1',
      memdev: 'mem-nv1',
      'label-size': 128 * K,
    });
    expect(nvdimmQmp({ id: 'nv1', backend, labelSize: undefined })).toEqual({ driver: 'nvdimm', id: 'nv1', memdev: 'mem-nv1' });
  });
});

describe('virtio-pmem', () => {
  it('links the device to its backend, on the command line and over QMP', () => {
    const vp = { id: 'vp1', backend: { ...backend, id: 'mem-vp1' } };
    expect(virtioPmemDevice(vp)).toBe('virtio-pmem-pci,id=vp1,memdev=mem-vp1');
    expect(virtioPmemQmp(vp)).toEqual({ driver: 'virtio-pmem-pci', id: 'vp1', memdev: 'mem-vp1' });
  });
});
