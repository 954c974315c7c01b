/** A metadata step's cache key input (configChange) and word expansion against a stage's env. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configChange, expandWord, setEnv, type StageState } from '../../src/builder/state.ts';

const base = { Env: ['PATH=/bin', 'A=1'], User: 'root' };
const withB = { ...base, Env: setEnv(base.Env, 'B', '2') };

describe('configChange', () => {
  const cases: Array<{ name: string; before: Record<string, unknown> | undefined; after: Record<string, unknown>; want: Record<string, unknown> }> = [
    { name: 'nothing changed', before: base, after: { ...base }, want: {} },
    { name: 'an ENV appended', before: base, after: withB, want: { Env: { length: 3, changed: [[2, 'B=2']] } } },
    { name: 'an ENV replaced', before: base, after: { ...base, Env: setEnv(base.Env, 'A', '9') }, want: { Env: { length: 2, changed: [[1, 'A=9']] } } },
    { name: 'a field set', before: base, after: { ...base, User: 'nobody' }, want: { User: 'nobody' } },
    { name: 'a field dropped', before: base, after: { Env: base.Env }, want: { User: null } },
    { name: 'from no config', before: undefined, after: { Env: ['A=1'] }, want: { Env: ['A=1'] } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(configChange(c.before, c.after), c.want));

  it('tells different values at the same place apart', () => {
    assert.notDeepEqual(configChange(base, { ...base, Env: setEnv(base.Env, 'B', '2') }), configChange(base, { ...base, Env: setEnv(base.Env, 'B', '3') }));
  });
});

describe('expandWord', () => {
  const state = { layers: [], config: { config: withB }, args: new Map([['A', 'arg']]), cacheKey: '', escape: '\\', cmdSet: false } as unknown as StageState;
  const cases: Array<[string, string]> = [
    ['plain', 'plain'],
    ['"q r"', 'q r'],
    ['$A-$B', '1-2'], // ENV wins over an ARG of the same name
    ['${C:-none}', 'none'],
    ['\\$A', '$A'],
  ];
  for (const [word, want] of cases) it(`${word} → ${want}`, () => assert.equal(expandWord(state, word), want));
});
