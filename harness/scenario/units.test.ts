import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from './units.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;
const T = 2 ** 40;

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['4096', 4096],
    ['100B', 100],
    ['128K', 128 * K],
    ['512M', 512 * M],
    ['1G', G],
    ['2T', 2 * T],
    ['16T', 16 * T],
  ])('reads %j as %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([
    ['1KiB', K],
    ['512MiB', 512 * M],
    ['1GiB', G],
    ['1kib', K],
    ['1g', G],
    ['512 M', 512 * M],
    ['  1G  ', G],
  ])('takes the unit spellings %j', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it('takes decimals that come to whole bytes', () => {
    expect(parseSize('1.5M')).toBe(1.5 * M);
    expect(parseSize('0.5K')).toBe(512);
    expect(parseSize('2.25G')).toBe(2.25 * G);
  });

  it('adds and subtracts terms, with or without spaces', () => {
    expect(parseSize('1G - 128K')).toBe(G - 128 * K);
    expect(parseSize('1G-128K')).toBe(1073610752);
    expect(parseSize('1G + 1G')).toBe(2 * G);
    expect(parseSize('1G - 128K + 4K')).toBe(G - 124 * K);
    expect(parseSize('1 - 2 + 3')).toBe(2);
    expect(parseSize('128K - 128K')).toBe(0);
  });

  it('takes numbers as bytes', () => {
    expect(parseSize(0)).toBe(0);
    expect(parseSize(1024)).toBe(1024);
    expect(parseSize(G)).toBe(G);
  });

  it.each(['12Q', '1.5.3G', '-1G', '+1G', 'G', '', '1e3', '1G -', '- 1G', '1 GG', 'one', '0x100', '1,5G'])(
    'refuses %j as not a size, naming the input and the units',
    (input) => {
      expect(() => parseSize(input)).toThrow(`"${input}" is not a size: expected bytes or a number with a unit K, M, G or T`);
    },
  );

  it.each(['256MB', '1GB', '1kb'])('refuses the decimal-looking unit %j with a hint', (input) => {
    expect(() => parseSize(input)).toThrow(/is ambiguous; sizes are binary: use \d+[KMGT] or \d+[KMGT]iB/);
  });

  it.each(['1iB', '1i', 'iB', '1KiBB', '1Bi'])('refuses the stray unit spelling %j', (input) => {
    expect(() => parseSize(input)).toThrow(`"${input}" is not a size`);
  });

  it('refuses a sum that comes out negative', () => {
    expect(() => parseSize('128K - 1G')).toThrow('size "128K - 1G" is negative');
    expect(() => parseSize('0 - 1')).toThrow('is negative');
  });

  it('refuses a decimal that is not a whole number of bytes', () => {
    expect(() => parseSize('0.1K')).toThrow('"0.1K" is not a whole number of bytes');
    expect(() => parseSize('1.5')).toThrow('is not a whole number of bytes');
    expect(() => parseSize('1.0000001K')).toThrow('is not a whole number of bytes');
  });

  it('refuses a term too large to be exact', () => {
    expect(() => parseSize('99999999999T')).toThrow('is not a whole number of bytes');
  });

  it.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses the number %d', (n) => {
    expect(() => parseSize(n)).toThrow('a size must be a whole number of bytes');
  });
});

describe('formatSize', () => {
  it('gives bytes and the largest binary unit, rounded to 3 decimals', () => {
    expect(formatSize(1073610752)).toBe('1073610752 bytes (1023.875 MiB)');
    expect(formatSize(G)).toBe('1073741824 bytes (1 GiB)');
    expect(formatSize(1536)).toBe('1536 bytes (1.5 KiB)');
    expect(formatSize(3 * T)).toBe('3298534883328 bytes (3 TiB)');
    expect(formatSize(G + 1)).toBe('1073741825 bytes (1 GiB)');
    expect(formatSize(1000 * M + 123)).toBe(`${1000 * M + 123} bytes (1000 MiB)`);
  });

  it('gives plain bytes below 1 KiB', () => {
    expect(formatSize(0)).toBe('0 bytes');
    expect(formatSize(1023)).toBe('1023 bytes');
    expect(formatSize(1024)).toBe('1024 bytes (1 KiB)');
  });
});
