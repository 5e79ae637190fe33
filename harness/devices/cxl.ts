/**
 * A CXL type-3 memory device with persistent memory, in the minimal topology of QEMU's CXL document: one
 * CXL host bridge (pxb-cxl) for the guest, a root port (cxl-rp) per device, the device itself with its
 * memory backend and its label storage area (lsa=), and one CXL fixed memory window over the host bridge,
 * large enough for every device. QEMU 7.2 names the backend `memdev=`; 8.0 on, `persistent-memdev=`.
 */
import { optionList, qemuSize } from '../qemu/options.js';
import type { BackendOptions } from './backend.js';

export interface CxlOptions {
  id: string;
  backend: BackendOptions;
  lsa: BackendOptions;
}

/** The host bridge every CXL device of a guest is under; its PCI bus numbers start at 12, clear of pcie.0's. */
export const CXL_HOST_BRIDGE = 'cxl.1';
/** A fixed memory window is a whole number of 256 MiB (QEMU refuses others). */
const WINDOW_GRANULE = 256 * 2 ** 20;

/** The `-device` arguments of the host bridge, each device's root port and each device. */
export function cxlDevices(devices: CxlOptions[], backendProperty: 'memdev' | 'persistent-memdev'): string[] {
  return [
    optionList('pxb-cxl', [
      ['bus_nr', 12],
      ['bus', 'pcie.0'],
      ['id', CXL_HOST_BRIDGE],
    ]),
    ...devices.flatMap((d, i) => [
      optionList('cxl-rp', [
        ['port', i],
        ['bus', CXL_HOST_BRIDGE],
        ['id', `rp-${d.id}`],
        ['chassis', 0],
        ['slot', i + 2],
      ]),
      optionList('cxl-type3', [
        ['bus', `rp-${d.id}`],
        [backendProperty, d.backend.id],
        ['lsa', d.lsa.id],
        ['id', d.id],
        // A serial number of its own: newer kernels refuse a pmem region of a memdev without one
        // ("invalid or missing serial number", sid's 7.2 as measured).
        ['sn', i + 1],
      ]),
    ]),
  ];
}

/** The `-machine` options of the fixed memory window over the host bridge. */
export function cxlWindow(devices: CxlOptions[]): string {
  const total = devices.reduce((sum, d) => sum + d.backend.size, 0);
  const size = Math.max(WINDOW_GRANULE, Math.ceil(total / WINDOW_GRANULE) * WINDOW_GRANULE);
  return `cxl-fmw.0.targets.0=${CXL_HOST_BRIDGE},cxl-fmw.0.size=${qemuSize(size)}`;
}
