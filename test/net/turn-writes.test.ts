// Answers written together at the end of the turn that decided them: none synchronously, all in
// order in one burst, none lost when one throws or when one is queued while the burst runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { turnWrites } from '../../src/net/turn-writes.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('turnWrites', () => {
  it('writes nothing at once, then every answer of the turn in one burst, in order', async () => {
    const atTurnEnd = turnWrites(() => assert.fail('no error expected'));
    const written: string[] = [];
    atTurnEnd(() => written.push('a'));
    await Promise.resolve();
    atTurnEnd(() => written.push('b'));
    assert.deepEqual(written, [], 'not written while the turn runs');
    // An immediate queued after both runs after the burst: both are out by then.
    await nextTurn();
    assert.deepEqual(written, ['a', 'b']);
  });

  it('a write that throws is reported and the others still go out', async () => {
    const errors: unknown[] = [];
    const atTurnEnd = turnWrites((e) => errors.push(e));
    const written: string[] = [];
    atTurnEnd(() => written.push('a'));
    atTurnEnd(() => {
      throw new Error('boom');
    });
    atTurnEnd(() => written.push('c'));
    await nextTurn();
    assert.deepEqual(written, ['a', 'c']);
    assert.equal((errors[0] as Error).message, 'boom');
  });

  it('an answer queued while a burst is written goes out in the next one', async () => {
    const atTurnEnd = turnWrites(() => assert.fail('no error expected'));
    const written: string[] = [];
    atTurnEnd(() => {
      written.push('a');
      atTurnEnd(() => written.push('later'));
    });
    await nextTurn();
    assert.deepEqual(written, ['a']);
    await nextTurn();
    assert.deepEqual(written, ['a', 'later']);
  });
});
