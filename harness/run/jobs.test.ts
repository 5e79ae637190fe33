import { describe, expect, it } from 'vitest';
import { jobs } from './jobs.js';

const GIB = 2 ** 30;

describe('jobs', () => {
  it('is one per core when memory allows', () => {
    expect(jobs({}, 2, 24 * GIB)).toBe(2);
  });
  it('is bounded by memory, 2 GiB a job, and never below 1', () => {
    expect(jobs({}, 16, 6 * GIB)).toBe(3);
    expect(jobs({}, 4, 1 * GIB)).toBe(1);
  });
  it('takes NVDIMM_HARNESS_JOBS over both', () => {
    expect(jobs({ NVDIMM_HARNESS_JOBS: '5' }, 2, 1 * GIB)).toBe(5);
    expect(() => jobs({ NVDIMM_HARNESS_JOBS: 'many' }, 2, GIB)).toThrow(/whole number/);
    expect(() => jobs({ NVDIMM_HARNESS_JOBS: '0' }, 2, GIB)).toThrow(/at least 1/);
  });
});
