import { describe, expect, it } from 'vitest';
import { firstMismatch } from './monitor.js';

describe("firstMismatch (a qmp step's expected return against what QEMU returned)", () => {
  it('matches objects on the keys the scenario gives, and says where they differ', () => {
    const have = { type: 'nvdimm', data: { id: 'nv1', size: 268435456, hotplugged: false, slot: 0 } };
    expect(firstMismatch({ data: { id: 'nv1', size: 268435456 } }, have, '')).toBeUndefined();
    expect(firstMismatch({ data: { size: 268435457 } }, have, '')).toEqual({ path: '.data.size', want: 268435457, have: 268435456 });
    expect(firstMismatch({ data: { missing: null } }, have, '')).toEqual({ path: '.data.missing', want: null, have: undefined });
  });

  it('matches lists entry by entry and of the same length', () => {
    expect(firstMismatch([{ id: 'a' }], [{ id: 'a', x: 1 }], '')).toBeUndefined();
    expect(firstMismatch([{ id: 'a' }], [{ id: 'a' }, { id: 'b' }], '')).toMatchObject({ path: '' });
    expect(firstMismatch([], {}, '')).toMatchObject({ path: '' });
    expect(firstMismatch([{ id: 'a' }, { id: 'b' }], [{ id: 'a' }, { id: 'c' }], '')).toMatchObject({ path: '[1].id' });
  });

  it('compares values exactly: a number is not its string', () => {
    expect(firstMismatch(0, 0, '')).toBeUndefined();
    expect(firstMismatch(0, '0', '')).toBeDefined();
    expect(firstMismatch({}, null, '')).toBeDefined();
  });
});
