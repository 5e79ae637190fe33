import { describe, expect, it } from 'vitest';
import { defaultJobs, SETTINGS, setting } from './settings.js';

const GIB = 2 ** 30;

describe('jobs', () => {
  it('is one per core when memory allows', () => {
    expect(defaultJobs(2, 24 * GIB)).toBe(2);
  });
  it('is bounded by memory, 2 GiB a job, and never below 1', () => {
    expect(defaultJobs(16, 6 * GIB)).toBe(3);
    expect(defaultJobs(4, 1 * GIB)).toBe(1);
  });
  it('takes NVDIMM_HARNESS_JOBS over both', () => {
    expect(setting('jobs', { NVDIMM_HARNESS_JOBS: '5' })).toBe(5);
    expect(() => setting('jobs', { NVDIMM_HARNESS_JOBS: 'many' })).toThrow(/NVDIMM_HARNESS_JOBS: .*whole number/);
    expect(() => setting('jobs', { NVDIMM_HARNESS_JOBS: '0' })).toThrow(/at least 1/);
  });
});

describe('settings', () => {
  it('each has its own environment variable', () => {
    const vars = Object.values(SETTINGS).map((s) => s.env);
    expect(new Set(vars).size).toBe(vars.length);
  });
  it('refuse a QEMU that is neither a provisionable build nor a path, listing the valid ones', () => {
    expect(() => setting('qemu', { NVDIMM_HARNESS_QEMU: '9.9' })).toThrow(
      'NVDIMM_HARNESS_QEMU: QEMU 9.9 is not provisionable; choose 5.2, 7.2, 10.0, 11.1 (or a Debian suite) or a path',
    );
    expect(() => setting('qemu', { NVDIMM_HARNESS_QEMU: '/nonexistent/qemu' })).toThrow('does not exist');
    expect(setting('qemu', { NVDIMM_HARNESS_QEMU: 'trixie' })).toBe('trixie');
  });
  it('refuse an unknown image and any name that is a path', () => {
    expect(() => setting('image', { NVDIMM_HARNESS_IMAGE: 'debian-foo' })).toThrow(
      /unknown guest image "debian-foo"; choose debian-bookworm/,
    );
    expect(() => setting('image', { NVDIMM_HARNESS_IMAGE: '../../etc/x' })).toThrow(/unknown guest image/);
  });
  it('take the Debian mirror only as an http(s) URL without whitespace', () => {
    expect(setting('mirror', { NVDIMM_HARNESS_DEBIAN_MIRROR: 'http://mirror.local:8080/debian//' })).toBe(
      'http://mirror.local:8080/debian',
    );
    for (const bad of ['ftp://x/debian', 'mirror/debian', 'http://x/deb ian', 'http://x/debian\n-o evil'])
      expect(() => setting('mirror', { NVDIMM_HARNESS_DEBIAN_MIRROR: bad })).toThrow(/expected an http\(s\) URL/);
  });
});

describe('arch and machine type', () => {
  /** Runs f with these variables set (undefined: unset), then puts them back. */
  const withEnv = (vars: Record<string, string | undefined>, f: () => void) => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const apply = (v: Record<string, string | undefined>) => {
      for (const [k, x] of Object.entries(v))
        if (x === undefined) delete process.env[k];
        else process.env[k] = x;
    };
    apply(vars);
    try {
      f();
    } finally {
      apply(saved);
    }
  };
  const unset = { NVDIMM_HARNESS_ARCH: undefined, NVDIMM_HARNESS_MACHINE: undefined };

  it('default to amd64 on pc', () => {
    withEnv(unset, () => {
      expect(setting('arch')).toBe('amd64');
      expect(setting('machine')).toBe('pc');
    });
  });

  it('give arm64 guests the virt machine, and --machine virt alone means arm64', () => {
    withEnv({ ...unset, NVDIMM_HARNESS_ARCH: 'arm64' }, () => expect(setting('machine')).toBe('virt'));
    withEnv({ ...unset, NVDIMM_HARNESS_MACHINE: 'virt' }, () => expect(setting('arch')).toBe('arm64'));
  });

  it('refuse an unknown arch', () => {
    expect(() => setting('arch', { NVDIMM_HARNESS_ARCH: 'riscv64' })).toThrow(/expected one of amd64, arm64, not "riscv64"/);
  });
});
