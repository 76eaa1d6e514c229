// The async context of sampled checks: found by their own continuations, never by others', and
// switched off whenever no sampled check is in flight (Node 20's promise hooks cost every check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, createContextKey, type Context } from '@opentelemetry/api';
import { SampledContext } from '../../../src/obs/trace/sampled-context.js';

const KEY = createContextKey('check');
const ctxOf = (name: string) => ROOT_CONTEXT.setValue(KEY, name);
const nameIn = (s: SampledContext<Context>) => s.active()?.getValue(KEY);

/** A promise with its resolver, so a test decides the order in which runs end. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

describe('sampled check context', () => {
  it('each run sees its own context after awaits, while another run overlaps and ends first', async () => {
    const s = new SampledContext<Context>();
    const a = gate();
    const b = gate();
    const seen: unknown[] = [];
    const first = s.run(
      ctxOf('a'),
      async () => {
        await a.wait;
        seen.push(nameIn(s));
      },
      undefined,
    );
    const second = s.run(
      ctxOf('b'),
      async () => {
        await b.wait;
        seen.push(nameIn(s));
      },
      undefined,
    );
    b.open();
    await second;
    a.open();
    await first;
    assert.deepEqual(seen, ['b', 'a']);
  });

  it('nothing is active outside runs, nor in a continuation that outlives its run', async () => {
    const s = new SampledContext<Context>();
    assert.equal(nameIn(s), undefined);
    const late = gate();
    let outlived: Promise<unknown> = Promise.resolve();
    await s.run(
      ctxOf('c'),
      async () => {
        assert.equal(nameIn(s), 'c');
        outlived = late.wait.then(() => nameIn(s));
      },
      undefined,
    );
    late.open();
    assert.equal(await outlived, undefined);
    assert.equal(nameIn(s), undefined);
  });

  it('a run that throws still ends, and the next run is tracked again', async () => {
    const s = new SampledContext<Context>();
    await assert.rejects(
      s.run(
        ctxOf('d'),
        async () => {
          throw new Error('boom');
        },
        undefined,
      ),
      /boom/,
    );
    const seen = await s.run(
      ctxOf('e'),
      async () => {
        await Promise.resolve();
        return nameIn(s);
      },
      undefined,
    );
    assert.equal(seen, 'e');
  });
});
