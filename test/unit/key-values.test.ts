/** parseKeyValues / splitFields / keyValueMap: the one `k=v,…` option parser (CSV quoting, as docker and BuildKit read it). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyValueMap, parseKeyValues, splitFields } from '../../src/dockerfile/key-values.ts';
import { BerthError } from '../../src/errors/index.ts';

const invalid = (e: unknown) => e instanceof BerthError && e.code === 'INVALID_ARGUMENT';

describe('splitFields: one CSV record', () => {
  const cases: Array<[string, string[]]> = [
    ['', ['']],
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    ['a,,b', ['a', '', 'b']],
    ['a,', ['a', '']],
    [',a', ['', 'a']],
    ['"a,b",c', ['a,b', 'c']],
    ['"a""b"', ['a"b']],
    ['""', ['']],
    ['"",x', ['', 'x']],
    ['x,"y=1,2"', ['x', 'y=1,2']],
    ['"k=v"', ['k=v']],
    ['a b , c', ['a b ', ' c']],
    ['line\nbreak,x', ['line\nbreak', 'x']],
    ['"quoted\nnewline"', ['quoted\nnewline']],
    ['nul\0byte,x', ['nul\0byte', 'x']],
    ['k=\\,v', ['k=\\', 'v']],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.deepEqual(splitFields(input), want));

  const bad: Array<[string, RegExp]> = [
    ['"open', /not closed/],
    ['a,"open', /not closed/],
    ['"a"b', /must end at a comma/],
    ['"a" ,b', /must end at a comma/],
    ['a"b', /quote inside an unquoted field/],
    [' "a"', /quote inside an unquoted field/],
    ['k="v"', /quote inside an unquoted field/],
  ];
  for (const [input, msg] of bad)
    it(`refuses ${JSON.stringify(input)}`, () =>
      assert.throws(
        () => splitFields(input),
        (e) => invalid(e) && msg.test((e as Error).message),
      ));
});

describe('parseKeyValues', () => {
  const cases: Array<[string, Array<{ key: string; value?: string }>]> = [
    [
      'type=cache,target=/root/.cache',
      [
        { key: 'type', value: 'cache' },
        { key: 'target', value: '/root/.cache' },
      ],
    ],
    ['ro', [{ key: 'ro' }]],
    ['readonly,rw=false', [{ key: 'readonly' }, { key: 'rw', value: 'false' }]],
    ['k=', [{ key: 'k', value: '' }]],
    ['=v', [{ key: '', value: 'v' }]],
    ['k=a=b', [{ key: 'k', value: 'a=b' }]],
    [
      'id=1,id=2',
      [
        { key: 'id', value: '1' },
        { key: 'id', value: '2' },
      ],
    ],
    ['Type=Bind', [{ key: 'Type', value: 'Bind' }]],
    [
      '"src=a,b",dst=/x',
      [
        { key: 'src', value: 'a,b' },
        { key: 'dst', value: '/x' },
      ],
    ],
    ['a,,b,', [{ key: 'a' }, { key: 'b' }]],
    ['', []],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.deepEqual(parseKeyValues(input), want));

  it('is linear on a huge input, with or without commas', () => {
    const big = `k=${'x'.repeat(5_000_000)}`;
    assert.equal(parseKeyValues(big)[0]!.value!.length, 5_000_000);
    const many = Array.from({ length: 200_000 }, (_, i) => `k${i}=v`).join(',');
    assert.equal(parseKeyValues(many).length, 200_000);
    const quoted = `"${'a""'.repeat(100_000)}"`;
    assert.equal(splitFields(quoted)[0]!.length, 200_000);
  });
  it('an unbalanced quote in a huge input is an error, and its message stays short', () => {
    assert.throws(
      () => parseKeyValues(`"${'y'.repeat(1_000_000)}`),
      (e) => invalid(e) && (e as Error).message.length < 200,
    );
  });
});

describe('keyValueMap', () => {
  it('lower-cases keys; a bare field has no value', () => {
    assert.deepEqual(
      [...keyValueMap('ID=a,SRC=/f,quiet', '--secret')],
      [
        ['id', 'a'],
        ['src', '/f'],
        ['quiet', undefined],
      ],
    );
  });
  it('a repeated key is an error naming the option', () => {
    assert.throws(
      () => keyValueMap('id=a,ID=b', '--secret'),
      (e) => invalid(e) && /--secret/.test((e as Error).message) && /"id" is given twice/.test((e as Error).message),
    );
  });
  it('a bare field can stand for a key (docker --output ./dir)', () => {
    assert.deepEqual([...keyValueMap('./Out', '--output', { bare: 'dest' })], [['dest', './Out']]);
    assert.deepEqual(
      [...keyValueMap('type=tar,dest=-', '--output', { bare: 'dest' })],
      [
        ['type', 'tar'],
        ['dest', '-'],
      ],
    );
    assert.throws(() => keyValueMap('./a,dest=./b', '--output', { bare: 'dest' }), invalid);
  });
});

describe('the CLI reads --mount with it', () => {
  it('a quoted field holds a comma; a bare ro is read-only; an open quote is an error', async () => {
    const { resolveMounts } = await import('../../src/container/mounts.ts');
    const volumes = {} as Parameters<typeof resolveMounts>[0]; // tmpfs mounts touch no volume
    const req = { volumes: [], tmpfs: [], imageVolumes: [] };
    const [m] = await resolveMounts(volumes, { ...req, mounts: ['type=tmpfs,"target=/a,b",tmpfs-size=1m,ro'] });
    assert.deepEqual([m!.type, m!.destination, m!.readonly, m!.options], ['tmpfs', '/a,b', true, ['size=1m']]);
    await assert.rejects(resolveMounts(volumes, { ...req, mounts: ['type=tmpfs,"target=/a'] }), invalid);
  });
});
