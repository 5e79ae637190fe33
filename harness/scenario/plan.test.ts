import { describe, expect, it } from 'vitest';
import { stepUnmet } from './plan.js';

describe('stepUnmet (why a step does not run here)', () => {
  const here = { image: 'debian-bookworm', machine: 'q35' as const };

  it('runs a step with no conditions anywhere', () => {
    expect(stepUnmet({}, '5.2.0', here)).toBeUndefined();
  });

  it('skips a step whose when: does not hold, saying which condition', () => {
    expect(stepUnmet({ when: { qemu: '>=7.0' } }, '5.2.0', here)).toBe('only for QEMU >=7.0, this is 5.2.0');
    expect(stepUnmet({ when: { machine: 'pc' } }, '7.2.22', here)).toBe('only for machine pc, this is q35');
    expect(stepUnmet({ when: { qemu: '>=7.0', machine: 'q35' } }, '7.2.22', here)).toBeUndefined();
  });

  it('skips a step where every condition of its unless: holds, and runs it where any does not', () => {
    const step = { unless: { qemu: '<7.0', machine: 'q35' as const } };
    expect(stepUnmet(step, '5.2.0', here)).toBe('not for QEMU <7.0 on machine q35 (this is QEMU 5.2.0, debian-bookworm, q35)');
    expect(stepUnmet(step, '7.2.22', here)).toBeUndefined();
    expect(stepUnmet(step, '5.2.0', { ...here, machine: 'pc' })).toBeUndefined();
    // `list` judges no machine: the condition does not hold, and the step counts.
    expect(stepUnmet(step, '5.2.0')).toBeUndefined();
  });
});
