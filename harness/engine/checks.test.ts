import { describe, expect, it } from 'vitest';
import { matchUnordered, messageFor, messageMutants, NEVER_MATCHES } from './checks.js';

describe('matchUnordered', () => {
  const have = [
    { size: 1, type: 'pmem' },
    { size: 2, type: 'pmem' },
  ];

  it('matches expected entries in any order, projected on their keys', () => {
    expect(matchUnordered([{ size: 2 }, { size: 1 }], have)).toEqual([{ size: 2 }, { size: 1 }]);
  });

  it('shows an unmatched expectation beside the unmatched actual entry, and extra entries whole', () => {
    expect(matchUnordered([{ size: 3 }], have)).toEqual([{ size: 1 }, { size: 2, type: 'pmem' }]);
  });

  it('never lets an expectation without a counterpart pass, not even an empty one', () => {
    // {} means "any entry": with none left it must not compare equal.
    expect(matchUnordered([{ size: 1 }, { size: 2 }, {}], have)).toEqual([{ size: 1 }, { size: 2 }, null]);
  });
});

describe('versioned messages', () => {
  const message = [
    { qemu: '<10.0', message: 'does not match' },
    { qemu: '>=10.0', message: 'is too small' },
  ];

  it('apply the first entry whose range holds', () => {
    expect(messageFor(message, '7.2.22').source).toBe('does not match');
    expect(messageFor(message, '10.0.13').source).toBe('is too small');
  });

  it('are a check failure, not a pass, for a version no entry covers', () => {
    expect(() => messageFor([{ qemu: '<7.0', message: 'x' }], '7.2.0')).toThrow(/no expected message for QEMU 7.2.0/);
  });

  it("mutate into an unmatchable message and into the other version's words", () => {
    expect(messageMutants(message, '7.2.22')).toEqual([
      { label: 'message made unmatchable', message: [{ ...message[0], message: `does not match${NEVER_MATCHES}` }, message[1]] },
      { label: 'message of QEMU >=10.0 expected', message: [{ ...message[0], message: 'is too small' }, message[1]] },
    ]);
    expect(new RegExp(`anything${NEVER_MATCHES}`).test('anything')).toBe(false);
    expect(messageMutants('refused', '7.2.0')).toEqual([{ label: 'message made unmatchable', message: `refused${NEVER_MATCHES}` }]);
  });
});
