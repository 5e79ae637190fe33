import { describe, expect, it } from 'vitest';
import { parseSize } from '../scenario/units.js';
import { optValue, qemuSize } from './options.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;
const T = 2 ** 40;

describe('qemuSize', () => {
  it.each([
    [512 * M, '512M'],
    [128 * K, '128K'],
    [G, '1G'],
    [3 * G, '3G'],
    [T, '1T'],
    [16 * T, '16T'],
    [1536 * K, '1536K'],
    [1.5 * G, '1536M'],
    [G - 128 * K, '1048448K'],
    [1000, '1000'],
    [0, '0'],
  ])('writes %d bytes as %j', (bytes, text) => {
    expect(qemuSize(bytes)).toBe(text);
  });

  it('gives back what parseSize reads', () => {
    for (const s of ['512M', '128K', '1G', '1G - 128K', '2T', '4096', '1.5M']) {
      expect(parseSize(qemuSize(parseSize(s)))).toBe(parseSize(s));
    }
  });
});

describe('optValue', () => {
  it('doubles commas and leaves everything else alone', () => {
    expect(optValue('/tmp/a,b')).toBe('/tmp/a,,b');
    expect(optValue('a,,b,')).toBe('a,,,,b,,');
    expect(optValue('/plain/path=x y')).toBe('/plain/path=x y');
  });
});
