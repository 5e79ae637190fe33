import { describe, expect, it } from 'vitest';
import { bytes, NDCTL_LIST, parseNdctlList } from './ndctl.js';

/** `ndctl list --dimms --regions --namespaces` in a QEMU 7.2 guest with ndctl 76: a 1 GiB backend, label-size=128K. */
const QEMU_7_2_LABELLED = `{
  "dimms":[
    {
      "dev":"nmem0",
      "id":"8680-56341200",
      "handle":1,
      "phys_id":0
    }
  ],
  "regions":[
    {
      "dev":"region0",
      "size":1073610752,
      "align":16777216,
      "available_size":0,
      "max_available_extent":0,
      "type":"pmem",
      "iset_id":10248187106440278,
      "mappings":[
        {
          "dimm":"nmem0",
          "offset":0,
          "length":1073610752,
          "position":0
        }
      ],
      "persistence_domain":"unknown",
      "namespaces":[
        {
          "dev":"namespace0.0",
          "mode":"raw",
          "size":1073610752,
          "uuid":"c4b5d0f7-5bd6-4a3c-9b0e-13a3c1a1b7d2",
          "sector_size":512,
          "blockdev":"pmem0"
        }
      ]
    }
  ]
}
`;

describe('parseNdctlList', () => {
  it('lists the command it reads the output of', () => {
    expect(NDCTL_LIST).toBe('ndctl list --dimms --regions --namespaces');
  });

  it('reads the nested form: dimms, regions, and namespaces under their regions', () => {
    const t = parseNdctlList(QEMU_7_2_LABELLED);
    expect(t.dimms).toEqual([{ dev: 'nmem0', id: '8680-56341200' }]);
    const namespace = {
      dev: 'namespace0.0',
      mode: 'raw',
      size: 1073610752,
      uuid: 'c4b5d0f7-5bd6-4a3c-9b0e-13a3c1a1b7d2',
      sector_size: 512,
      blockdev: 'pmem0',
    };
    expect(t.regions).toEqual([
      { dev: 'region0', size: 1073610752, type: 'pmem', persistence_domain: 'unknown', available_size: 0, namespaces: [namespace] },
    ]);
    // Namespaces are also listed flat, whatever region they are in.
    expect(t.namespaces).toEqual([namespace]);
  });

  it('reads a single object (ndctl prints no array for one result)', () => {
    const t = parseNdctlList(
      '{"dev":"namespace0.0","mode":"fsdax","map":"mem","size":4294967296,"sector_size":512,"blockdev":"pmem0","numa_node":0}',
    );
    expect(t).toEqual({
      dimms: [],
      regions: [],
      namespaces: [{ dev: 'namespace0.0', mode: 'fsdax', size: 4294967296, sector_size: 512, blockdev: 'pmem0' }],
    });
  });

  it('reads a single region or dimm object by its device name', () => {
    expect(parseNdctlList('{"dev":"region0","size":1073741824,"type":"pmem"}').regions).toEqual([
      { dev: 'region0', size: 1073741824, type: 'pmem', namespaces: [] },
    ]);
    expect(parseNdctlList('{"dev":"nmem0","id":"8680-56341200","handle":1}').dimms).toEqual([{ dev: 'nmem0', id: '8680-56341200' }]);
  });

  it('reads a bare array of namespaces, sorted by device number', () => {
    const t = parseNdctlList(
      JSON.stringify([
        { dev: 'namespace10.0', mode: 'raw', size: 3, blockdev: 'pmem10' },
        { dev: 'namespace2.0', mode: 'sector', size: 2, blockdev: 'pmem2s', sector_size: 4096 },
        { dev: 'namespace1.0', mode: 'raw', size: 1, blockdev: 'pmem1' },
      ]),
    );
    expect(t.namespaces.map((n) => n.dev)).toEqual(['namespace1.0', 'namespace2.0', 'namespace10.0']);
    expect(t.namespaces[1]).toEqual({ dev: 'namespace2.0', mode: 'sector', size: 2, blockdev: 'pmem2s', sector_size: 4096 });
    expect(t.regions).toEqual([]);
    expect(t.dimms).toEqual([]);
  });

  it('sorts regions and dimms by device number', () => {
    const t = parseNdctlList(
      JSON.stringify({
        dimms: [{ dev: 'nmem10' }, { dev: 'nmem2' }],
        regions: [
          { dev: 'region11', size: 1 },
          { dev: 'region3', size: 2 },
        ],
      }),
    );
    expect(t.dimms.map((d) => d.dev)).toEqual(['nmem2', 'nmem10']);
    expect(t.regions.map((r) => r.dev)).toEqual(['region3', 'region11']);
  });

  it('reads a single region object nested in the platform form', () => {
    // ndctl prints "regions" as an object, not a list, in some versions when there is one.
    const t = parseNdctlList(
      '{"dimms":{"dev":"nmem0"},"regions":{"dev":"region0","size":1024,"namespaces":{"dev":"namespace0.0","mode":"raw","size":1024}}}',
    );
    expect(t.dimms).toEqual([{ dev: 'nmem0' }]);
    expect(t.regions.map((r) => r.dev)).toEqual(['region0']);
    expect(t.namespaces).toEqual([{ dev: 'namespace0.0', mode: 'raw', size: 1024 }]);
  });

  it('keeps a bare region object that holds its namespaces (ndctl list -RN with one region)', () => {
    const t = parseNdctlList(
      '{"dev":"region0","size":1073610752,"type":"pmem","namespaces":[{"dev":"namespace0.0","mode":"raw","size":1073610752,"blockdev":"pmem0"}]}',
    );
    const namespace = { dev: 'namespace0.0', mode: 'raw', size: 1073610752, blockdev: 'pmem0' };
    expect(t.regions).toEqual([{ dev: 'region0', size: 1073610752, type: 'pmem', namespaces: [namespace] }]);
    expect(t.namespaces).toEqual([namespace]);
    expect(t.dimms).toEqual([]);
  });

  it('keeps a bare array of regions that hold their namespaces', () => {
    const t = parseNdctlList(
      JSON.stringify([
        { dev: 'region1', size: 2, namespaces: [{ dev: 'namespace1.0', mode: 'fsdax', size: 2 }] },
        { dev: 'region0', size: 1073610752, namespaces: [{ dev: 'namespace0.0', mode: 'raw', size: 1073610752 }] },
      ]),
    );
    expect(t.regions.map((r) => [r.dev, r.size, r.namespaces.map((n) => n.dev)])).toEqual([
      ['region0', 1073610752, ['namespace0.0']],
      ['region1', 2, ['namespace1.0']],
    ]);
    expect(t.namespaces.map((n) => n.dev)).toEqual(['namespace0.0', 'namespace1.0']);
  });

  it('reads -u human sizes in binary units', () => {
    const t = parseNdctlList(
      JSON.stringify({
        regions: [
          {
            dev: 'region0',
            size: '1023.88 MiB (1073.61 MB)',
            available_size: 0,
            type: 'pmem',
            namespaces: [{ dev: 'namespace0.0', mode: 'raw', size: '1023.88 MiB (1073.61 MB)', blockdev: 'pmem0' }],
          },
        ],
      }),
    );
    expect(t.regions[0]!.size).toBe(Math.round(1023.88 * 2 ** 20));
    // Two decimals of MiB (1023.875 printed as 1023.88): within 0.005 MiB, plus rounding, of the real 1073610752.
    expect(Math.abs(t.namespaces[0]!.size - 1073610752)).toBeLessThanOrEqual(0.005 * 2 ** 20 + 1);
  });

  it('reads empty output (nothing to list) as nothing', () => {
    expect(parseNdctlList('')).toEqual({ dimms: [], regions: [], namespaces: [] });
    expect(parseNdctlList('  \n')).toEqual({ dimms: [], regions: [], namespaces: [] });
    expect(parseNdctlList('[]')).toEqual({ dimms: [], regions: [], namespaces: [] });
  });

  it('takes a devdax namespace chardev from daxregion.devices[0]', () => {
    const t = parseNdctlList(
      JSON.stringify({
        dev: 'namespace0.0',
        mode: 'devdax',
        map: 'dev',
        size: 1054867456,
        uuid: '2a2e9b5c-7a1d-4f0e-9e5e-0c0c6a2f9c11',
        daxregion: {
          id: 0,
          size: 1054867456,
          align: 2097152,
          devices: [{ chardev: 'dax0.0', size: 1054867456, target_node: 1, align: 2097152, mode: 'devdax' }],
        },
        align: 2097152,
      }),
    );
    expect(t.namespaces).toEqual([
      { dev: 'namespace0.0', mode: 'devdax', size: 1054867456, uuid: '2a2e9b5c-7a1d-4f0e-9e5e-0c0c6a2f9c11', chardev: 'dax0.0' },
    ]);
  });

  it('keeps a chardev ndctl gives directly', () => {
    const t = parseNdctlList(
      '{"dev":"namespace0.0","mode":"devdax","size":1,"chardev":"dax0.1","daxregion":{"devices":[{"chardev":"dax0.0"}]}}',
    );
    expect(t.namespaces[0]!.chardev).toBe('dax0.1');
  });

  it('throws on output that is not JSON', () => {
    expect(() => parseNdctlList('error: no such command')).toThrow(SyntaxError);
  });
});

describe('bytes', () => {
  it('takes numbers and digit strings as bytes', () => {
    expect(bytes(1073610752)).toBe(1073610752);
    expect(bytes('4096')).toBe(4096);
  });

  it('takes ndctl -u human sizes', () => {
    expect(bytes('4.00 GiB (4.29 GB)')).toBe(4 * 2 ** 30);
    expect(bytes('128.00 KiB (131.07 kB)')).toBe(128 * 1024);
    expect(bytes('1.00 TiB (1.10 TB)')).toBe(2 ** 40);
  });

  it('throws on what is not a size, quoting it', () => {
    expect(() => bytes('lots')).toThrow('ndctl printed a size that is not one: "lots"');
    expect(() => bytes(undefined)).toThrow('not one: undefined');
    expect(() => bytes(null)).toThrow('not one: null');
  });
});
