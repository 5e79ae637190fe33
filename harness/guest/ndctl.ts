/**
 * `ndctl list` output, made the same shape whatever ndctl version printed it: a single object or an array
 * depending on how many results there are, sizes as numbers, namespaces listed under their regions or on
 * their own.
 */
export interface NdctlNamespace {
  dev: string;
  mode: string;
  size: number;
  blockdev?: string;
  chardev?: string;
  sector_size?: number;
  uuid?: string;
}

export interface NdctlRegion {
  dev: string;
  size: number;
  type?: string;
  available_size?: number;
  persistence_domain?: string;
  /** Listed with --verbose only. */
  numa_node?: number;
  namespaces: NdctlNamespace[];
}

export interface NdctlDimm {
  dev: string;
  id?: string;
}

export interface NdctlTopology {
  dimms: NdctlDimm[];
  regions: NdctlRegion[];
  namespaces: NdctlNamespace[];
}

/** The command whose output `parseNdctlList` reads. */
export const NDCTL_LIST = 'ndctl list --dimms --regions --namespaces';

type Json = Record<string, unknown>;

/** `ndctl list --dimms --regions --namespaces` as JSON, in one shape whatever ndctl printed: an object, an array, or nothing. */
export function parseNdctlList(stdout: string): NdctlTopology {
  const text = stdout.trim();
  // ndctl prints nothing at all when there is nothing to list.
  const json: unknown = text === '' ? {} : JSON.parse(text);
  const topology: NdctlTopology = { dimms: [], regions: [], namespaces: [] };
  const items = Array.isArray(json) ? (json as Json[]) : [json as Json];
  for (const item of items) {
    // The wrapper object has no "dev"; a region (which may hold "namespaces") has one.
    if (typeof item.dev !== 'string') {
      topology.dimms.push(...list(item.dimms).map(dimm));
      for (const r of list(item.regions)) topology.regions.push(region(r));
      topology.namespaces.push(...list(item.namespaces).map(namespace));
    } else if (typeof item.dev === 'string') {
      // A bare array of one kind: which kind is told by the device name.
      if (item.dev.startsWith('region')) topology.regions.push(region(item));
      else if (item.dev.startsWith('nmem')) topology.dimms.push(dimm(item));
      else if (item.dev.startsWith('namespace')) topology.namespaces.push(namespace(item));
    }
  }
  for (const r of topology.regions) topology.namespaces.push(...r.namespaces);
  topology.regions.sort(byDev);
  topology.namespaces.sort(byDev);
  topology.dimms.sort(byDev);
  return topology;
}

function list(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : v && typeof v === 'object' ? [v as Json] : [];
}

function region(r: Json): NdctlRegion {
  return {
    dev: String(r.dev),
    size: bytes(r.size),
    ...(r.type !== undefined ? { type: String(r.type) } : {}),
    ...(r.available_size !== undefined ? { available_size: bytes(r.available_size) } : {}),
    ...(r.persistence_domain !== undefined ? { persistence_domain: String(r.persistence_domain) } : {}),
    ...(r.numa_node !== undefined ? { numa_node: Number(r.numa_node) } : {}),
    namespaces: list(r.namespaces).map(namespace),
  };
}

function namespace(n: Json): NdctlNamespace {
  const ns: NdctlNamespace = { dev: String(n.dev), mode: String(n.mode), size: bytes(n.size) };
  for (const k of ['blockdev', 'chardev', 'uuid'] as const) if (n[k] !== undefined) ns[k] = String(n[k]);
  if (n.sector_size !== undefined) ns.sector_size = Number(n.sector_size);
  // devdax namespaces name their character device under "daxregion".
  const dax = list((n.daxregion as Json | undefined)?.devices)[0];
  if (!ns.chardev && dax?.chardev) ns.chardev = String(dax.chardev);
  return ns;
}

function dimm(d: Json): NdctlDimm {
  return { dev: String(d.dev), ...(d.id !== undefined ? { id: String(d.id) } : {}) };
}

/** A size as ndctl prints it: a number, or with `-u` a string like "1023.88 MiB (1073.61 MB)". */
export function bytes(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return Number(v);
    const m = /^([\d.]+) (KiB|MiB|GiB|TiB)/.exec(v);
    if (m) return Math.round(Number(m[1]) * 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(m[2]!) + 1));
  }
  throw new Error(`ndctl printed a size that is not one: ${JSON.stringify(v)}`);
}

function byDev(a: { dev: string }, b: { dev: string }): number {
  return a.dev.localeCompare(b.dev, undefined, { numeric: true });
}
