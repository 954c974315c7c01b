/**
 * docker's filters (services/filters), table-driven: the two ways in (`--filter` flags and
 * the API's JSON), the matchers of each listing and prune with docker's and/or rules, and
 * docker's error text for unknown keys and bad values. Expected values are what a docker 28
 * CLI against a real engine lists for the same filters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRecord } from '../../src/container/records.ts';
import { initialState, type ContainerConfigRecord, type ContainerState } from '../../src/container/types.ts';
import { isBerthError } from '../../src/errors/index.ts';
import type { Digest } from '../../src/oci/digest.ts';
import {
  backtrackingRisk,
  boolFilter,
  containerListMatcher,
  containerPruneMatcher,
  type FilterArgs,
  filtersFromFlags,
  filtersFromJson,
  filtersToJson,
  filterImages,
  imagePruneSelection,
  labelsMatch,
  type NetworkFacts,
  networkListMatcher,
  networkPruneMatcher,
  parseTimestamp,
  referenceMatches,
  regexMatch,
  untilCutoff,
  type VolumeFacts,
  volumeListMatcher,
  volumePruneSelection,
} from '../../src/services/filters/index.ts';

const f = (...specs: string[]): FilterArgs => filtersFromFlags(specs);
const refused = (fn: () => unknown, message: string | RegExp) =>
  assert.throws(fn, (e) => isBerthError(e, 'INVALID_ARGUMENT') && (typeof message === 'string' ? e.message === message : message.test(e.message)));

describe('filtersFromFlags (the docker CLI --filter)', () => {
  const cases: Array<[string, string[], Record<string, string[]>]> = [
    ['one key', ['name=web'], { name: ['web'] }],
    ['same key twice keeps both, in order', ['name=a', 'name=b'], { name: ['a', 'b'] }],
    ['the value keeps its own =', ['label=a=b=c'], { label: ['a=b=c'] }],
    ['label!= is the key label!', ['label!=team'], { 'label!': ['team'] }],
    ['keys are lower-cased and trimmed', [' Status =exited'], { status: ['exited'] }],
    ['values are trimmed', ['name= web '], { name: ['web'] }],
    ['an empty value', ['name='], { name: [''] }],
    ['none', [], {}],
  ];
  for (const [what, flags, want] of cases) it(what, () => assert.deepEqual(Object.fromEntries(f(...flags)), want));
  it('a flag without = is the CLI error', () => refused(() => f('noeq'), 'bad format of filter (expected name=value)'));
});

describe('filtersFromJson (the API filters parameter)', () => {
  const cases: Array<[string, unknown, Record<string, string[]>]> = [
    ['list form', { label: ['a=b', 'c'] }, { label: ['a=b', 'c'] }],
    ['map form, false values dropped', { label: { 'a=b': true, c: false } }, { label: ['a=b'] }],
    ['null is no filter', null, {}],
    ['absent is no filter', undefined, {}],
    ['non-string values as text', { exited: [0] }, { exited: ['0'] }],
  ];
  for (const [what, raw, want] of cases) it(what, () => assert.deepEqual(Object.fromEntries(filtersFromJson(raw)), want));
  for (const bad of [[1], 'label', 3, { label: 'a' }, { label: 7 }]) {
    it(`refuses ${JSON.stringify(bad)}`, () =>
      assert.throws(
        () => filtersFromJson(bad),
        (e) => isBerthError(e, 'INVALID_ARGUMENT'),
      ));
  }
  it('round-trips through the wire form', () =>
    assert.deepEqual(filtersFromJson(filtersToJson(f('label=a', 'label=b', 'name=x'))), f('label=a', 'label=b', 'name=x')));
});

describe('labelsMatch (label: every one holds; label!: none holds)', () => {
  const labels = { team: 'ml', tier: '', 'a=b': 'c' };
  const cases: Array<[string[], boolean]> = [
    [[], true],
    [['label=team'], true],
    [['label=team=ml'], true],
    [['label=team=web'], false],
    [['label=tier='], true],
    [['label=tier=x'], false],
    [['label=missing'], false],
    [['label=team', 'label=tier'], true],
    [['label=team', 'label=missing'], false],
    [['label!=team'], false],
    [['label!=team=web'], true],
    [['label!=missing'], true],
    [['label=team', 'label!=tier'], false],
    [['label=constructor'], false],
    [['label=__proto__'], false],
  ];
  for (const [specs, want] of cases) it(`${specs.join(' ') || '(none)'}: ${want}`, () => assert.equal(labelsMatch(f(...specs), labels), want));
  it('null labels hold no label', () => assert.equal(labelsMatch(f('label=a'), null), false));
});

describe('boolFilter (dangling, is-task, all)', () => {
  const cases: Array<[string[], boolean | undefined]> = [
    [[], undefined],
    [['dangling=true'], true],
    [['dangling=TRUE'], true],
    [['dangling=1'], true],
    [['dangling=false'], false],
    [['dangling=0'], false],
    [['dangling=true', 'dangling=1'], true],
    [['dangling=true', 'dangling=false'], undefined],
  ];
  for (const [specs, want] of cases) it(`${specs.join(' ') || '(none)'}: ${want}`, () => assert.equal(boolFilter(f(...specs), 'dangling'), want));
  it("a value that is no boolean is docker's error", () => refused(() => boolFilter(f('dangling=maybe'), 'dangling'), "invalid filter 'dangling=[maybe]'"));
});

describe('times (until, since)', () => {
  const NOW = 1_800_000_000_000_000_000n;
  const cases: Array<[string, bigint]> = [
    ['1700000000', 1_700_000_000_000_000_000n],
    ['1700000000.5', 1_700_000_000_500_000_000n],
    ['10m', NOW - 600_000_000_000n],
    ['1h30m', NOW - 5_400_000_000_000n],
    ['2026-12-07T18:00:00Z', BigInt(Date.parse('2026-12-07T18:00:00Z')) * 1_000_000n],
    ['2026-12-07', BigInt(Date.parse('2026-12-07T00:00:00Z')) * 1_000_000n],
  ];
  for (const [text, want] of cases) it(text, () => assert.equal(parseTimestamp(text, NOW), want));
  it('a word is an error', () => refused(() => parseTimestamp('yesterday', NOW), /failed to parse value as time or duration/));
  it('until: the cutoff in ms', () => assert.equal(untilCutoff(f('until=10m'), NOW), Number((NOW - 600_000_000_000n) / 1_000_000n)));
  it('until: none', () => assert.equal(untilCutoff(f(), NOW), undefined));
  it('until: only one', () => refused(() => untilCutoff(f('until=1h', 'until=2h'), NOW), 'more than one until filter specified'));
});

const T0 = Date.parse('2026-12-01T00:00:00Z');
function container(
  name: string,
  over: {
    labels?: Record<string, string>;
    state?: Partial<ContainerState>;
    minutes: number;
    image?: string;
    network?: string;
    runtime?: Record<string, unknown>;
  },
): ContainerRecord {
  return {
    id: `${name.charCodeAt(0).toString(16)}${'0'.repeat(62)}`,
    name,
    imageId: `sha256:${(over.image ?? 'bb').padEnd(64, '0')}` as Digest,
    imageRef: over.image === 'other' ? 'other:latest' : 'bb:1',
    created: new Date(T0 + over.minutes * 60_000).toISOString(),
    config: {
      labels: over.labels ?? {},
      network: over.network ?? 'bridge',
      mounts: name === 'web' ? [{ type: 'volume', source: '/v/data', destination: '/data', readonly: false, volumeName: 'data' }] : [],
      runtime: over.runtime ?? {},
    } as unknown as ContainerConfigRecord,
    state: { ...initialState(), ...over.state },
  };
}
const web = container('web', {
  labels: { team: 'web' },
  state: { status: 'running', ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  minutes: 3,
  runtime: { exposedPorts: ['9000/tcp'] },
});
const job = container('job', { labels: { team: 'ml', gpu: '' }, state: { status: 'exited', exitCode: 3 }, minutes: 2, network: 'none' });
const fresh = container('fresh', { state: { status: 'created' }, minutes: 1, image: 'other' });
const all = [fresh, job, web];
const byName = Object.fromEntries(all.map((c) => [c.name, c]));
const lookups = {
  createdOf: (key: string) => {
    const c = byName[key];
    if (!c) throw new Error(`No such container: ${key}`);
    return Date.parse(c.created);
  },
  imageIdOf: (ref: string) => (ref === 'bb:1' ? web.imageId : undefined),
};

describe('containerListMatcher (ps --filter)', () => {
  const names = (...specs: string[]) => {
    const m = containerListMatcher(f(...specs), lookups);
    return all.filter((c) => m.matches(c, { status: c.state.status, health: 'none' })).map((c) => c.name);
  };
  const cases: Array<[string[], string[]]> = [
    [[], ['fresh', 'job', 'web']],
    [['label=team'], ['job', 'web']],
    [['label=team=ml'], ['job']],
    [['label=team', 'label=gpu'], ['job']],
    [['name=web'], ['web']],
    [['name=^/j'], ['job']],
    [['name=^job$'], ['job']],
    [['name=e'], ['fresh', 'web']],
    [
      ['name=fresh', 'name=job'],
      ['fresh', 'job'],
    ],
    [['name=('], []],
    [['status=exited'], ['job']],
    [
      ['status=exited', 'status=created'],
      ['fresh', 'job'],
    ],
    [['status=running', 'label=team=ml'], []],
    [['exited=3'], ['job']],
    [['exited=0'], []],
    [['id=6a'], ['job']],
    [['ancestor=bb:1'], ['job', 'web']],
    [['ancestor=nosuch'], []],
    [['before=web'], ['fresh', 'job']],
    [['since=fresh'], ['job', 'web']],
    [['since=fresh', 'before=web'], ['job']],
    [['network=none'], ['job']],
    [['volume=data'], ['web']],
    [['volume=/data'], ['web']],
    [['health=none'], ['fresh', 'job', 'web']],
    [['health=healthy'], []],
    [['is-task=false'], ['fresh', 'job', 'web']],
    [['is-task=true'], []],
    [['isolation=default'], ['fresh', 'job', 'web']],
    [['publish=8080'], ['web']],
    [['publish=8080/udp'], []],
    [['publish=8000-8100/tcp'], ['web']],
    [['expose=80'], ['web']],
    [['expose=9000'], ['web']],
    [['expose=80/xyz'], []],
  ];
  for (const [specs, want] of cases) it(`${specs.join(' ') || '(none)'} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(names(...specs), want));

  const errors: Array<[string[], string | RegExp]> = [
    [['bogus=1'], "invalid filter 'bogus'"],
    [['label!=team'], "invalid filter 'label!'"],
    [['until=1h'], "invalid filter 'until'"],
    [['status=sleeping'], "invalid filter 'status=sleeping'"],
    [['exited=x'], 'strconv.Atoi: parsing "x": invalid syntax'],
    [['health=sick'], 'Unrecognised filter value for health: sick'],
    [['is-task=maybe'], "invalid filter 'is-task=[maybe]'"],
    [['publish=abc'], 'error while looking up for publish abc: strconv.ParseUint: parsing "abc": invalid syntax'],
    [['expose=70000'], /expose 70000/],
  ];
  for (const [specs, message] of errors) it(`${specs.join(' ')} is refused`, () => refused(() => names(...specs), message));
  it('before an unknown container fails as docker does', () => assert.throws(() => names('before=nosuch'), /No such container: nosuch/));
  it('a status filter asks for stopped containers by itself', () => {
    assert.equal(containerListMatcher(f('status=exited'), lookups).wantsStopped, true);
    assert.equal(containerListMatcher(f('exited=3'), lookups).wantsStopped, false);
  });
});

describe('containerPruneMatcher (container prune --filter)', () => {
  const names = (...specs: string[]) => all.filter(containerPruneMatcher(f(...specs))).map((c) => c.name);
  const cases: Array<[string[], string[]]> = [
    [[], ['fresh', 'job', 'web']],
    [['label=team'], ['job', 'web']],
    [['label!=team'], ['fresh']],
    [['label!=team=web'], ['fresh', 'job']],
    [[`until=${(T0 + 150_000) / 1000}`], ['fresh', 'job']],
    [['until=2026-12-01T00:01:30Z'], ['fresh']],
    [['until=1h'], ['fresh', 'job', 'web']],
  ];
  for (const [specs, want] of cases) it(`${specs.join(' ') || '(none)'} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(names(...specs), want));
  it('a list-only key is refused', () => refused(() => names('status=exited'), "invalid filter 'status'"));
  it('a bad until is refused', () => refused(() => names('until=soon'), /failed to parse value as time or duration/));
});

describe('filterImages and imagePruneSelection', () => {
  const img = (id: string, tags: string[], minutes: number, labels: Record<string, string> | null = null) => ({
    id,
    tags,
    repoDigests: [] as string[],
    created: new Date(T0 + minutes * 60_000).toISOString(),
    labels,
  });
  const images = [img('a', ['bb:1', 'bb:2'], 1), img('b', ['other/x:latest'], 2, { team: 'ml' }), img('c', [], 3, { team: 'web' })];
  const byName = (n: string) => images.find((i) => i.tags.includes(n.includes(':') ? n : `${n}:latest`));
  const kept = (...specs: string[]) => filterImages(images, f(...specs), byName).map((i) => `${i.id}[${i.tags.join(' ')}]`);
  const cases: Array<[string[], string[]]> = [
    [[], ['a[bb:1 bb:2]', 'b[other/x:latest]', 'c[]']],
    [['reference=bb'], ['a[bb:1 bb:2]']],
    [['reference=bb:1'], ['a[bb:1]']],
    [['reference=bb:*'], ['a[bb:1 bb:2]']],
    [['reference=*/x'], ['b[other/x:latest]']],
    [['reference=b*'], ['a[bb:1 bb:2]']],
    [['reference=x'], []],
    [
      ['reference=bb:1', 'reference=other/*'],
      ['a[bb:1]', 'b[other/x:latest]'],
    ],
    [['dangling=true'], ['c[]']],
    [['dangling=false'], ['a[bb:1 bb:2]', 'b[other/x:latest]']],
    [['label=team'], ['b[other/x:latest]', 'c[]']],
    [['label=team=ml'], ['b[other/x:latest]']],
    [['before=other/x'], ['a[bb:1 bb:2]']],
    [['since=bb:1'], ['b[other/x:latest]', 'c[]']],
    [['until=2026-12-01T00:02:30Z'], ['a[bb:1 bb:2]', 'b[other/x:latest]']],
  ];
  for (const [specs, want] of cases) it(`${specs.join(' ') || '(none)'} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(kept(...specs), want));
  it('an unknown key', () => refused(() => kept('bogus=1'), "invalid filter 'bogus'"));
  it('a bad dangling value', () => refused(() => kept('dangling=maybe'), "invalid filter 'dangling=[maybe]'"));
  it('before an unknown image', () =>
    assert.throws(
      () => kept('before=nope'),
      (e) => isBerthError(e, 'NOT_FOUND') && e.message === 'No such image: nope:latest',
    ));
  it('reference on a digest name', () => assert.equal(referenceMatches('bb', 'bb@sha256:abc'), true));

  it('prune: dangling only, unless -a or dangling=false', () => {
    assert.equal(imagePruneSelection(f()).all, false);
    assert.equal(imagePruneSelection(f(), { all: true }).all, true);
    assert.equal(imagePruneSelection(f('dangling=false')).all, true);
    assert.equal(imagePruneSelection(f('dangling=true')).all, false);
  });
  it('prune: labels and until narrow it', () => {
    const s = imagePruneSelection(f('label!=team=web', 'until=2026-12-01T00:02:30Z'));
    assert.deepEqual(
      images.filter(s.matches).map((i) => i.id),
      ['a', 'b'],
    );
  });
  it('prune: a list-only key is refused', () => refused(() => imagePruneSelection(f('reference=bb')), "invalid filter 'reference'"));
});

describe('volume filters', () => {
  const vols: VolumeFacts[] = [
    { name: 'v1', driver: 'local', labels: { team: 'a' }, dangling: true },
    { name: 'v2', driver: 'local', labels: {}, dangling: false },
    { name: 'cache', driver: 'local', labels: { team: 'b' }, dangling: true },
  ];
  const names = (...specs: string[]) => vols.filter(volumeListMatcher(f(...specs))).map((v) => v.name);
  const cases: Array<[string[], string[]]> = [
    [[], ['v1', 'v2', 'cache']],
    [['name=v'], ['v1', 'v2']],
    [['name=^c'], ['cache']],
    [
      ['name=v1', 'name=cache'],
      ['v1', 'cache'],
    ],
    [['dangling=true'], ['v1', 'cache']],
    [['dangling=false'], ['v2']],
    [['driver=local'], ['v1', 'v2', 'cache']],
    [['driver=nfs'], []],
    [['label=team'], ['v1', 'cache']],
    [['label=team=a'], ['v1']],
    [['label=team', 'dangling=true', 'name=v'], ['v1']],
  ];
  for (const [specs, want] of cases) it(`ls ${specs.join(' ') || '(none)'} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(names(...specs), want));
  it('ls: unknown key', () => refused(() => names('bogus=1'), "invalid filter 'bogus'"));
  it('ls: label! is not a list filter', () => refused(() => names('label!=team'), "invalid filter 'label!'"));
  it('ls: bad dangling', () => refused(() => names('dangling=x'), "invalid filter 'dangling=[x]'"));
  it('prune: anonymous only unless -a or all=true', () => {
    assert.equal(volumePruneSelection(f()).all, false);
    assert.equal(volumePruneSelection(f(), { all: true }).all, true);
    assert.equal(volumePruneSelection(f('all=true')).all, true);
    assert.equal(volumePruneSelection(f('all=0')).all, false);
  });
  it('prune: label!', () => assert.equal(volumePruneSelection(f('label!=team')).matches({ team: 'a' }), false));
  it('prune: until is not a volume prune filter', () => refused(() => volumePruneSelection(f('until=1h')), "invalid filter 'until'"));
});

describe('network filters', () => {
  const net = (name: string, custom: boolean, over: Partial<NetworkFacts> = {}): NetworkFacts => ({
    name,
    id: `${name}${'0'.repeat(12)}`,
    driver: name === 'host' ? 'host' : name === 'none' ? 'null' : 'bridge',
    scope: 'local',
    labels: {},
    custom,
    dangling: custom,
    created: custom ? T0 : 0,
    ...over,
  });
  const nets = [
    net('bridge', false),
    net('host', false),
    net('none', false),
    net('front', true, { labels: { team: 'web' }, dangling: false }),
    net('back', true),
  ];
  const names = (...specs: string[]) => nets.filter(networkListMatcher(f(...specs))).map((n) => n.name);
  const cases: Array<[string[], string[]]> = [
    [['name=front'], ['front']],
    [['name=n'], ['none', 'front']],
    [['id=back'], ['back']],
    [['driver=host'], ['host']],
    [['driver=bridge'], ['bridge', 'front', 'back']],
    [['type=custom'], ['front', 'back']],
    [['type=builtin'], ['bridge', 'host', 'none']],
    [
      ['type=custom', 'type=builtin'],
      ['bridge', 'host', 'none', 'front', 'back'],
    ],
    [['label=team'], ['front']],
    [['label=team=db'], []],
    [['dangling=true'], ['back']],
    [['dangling=false'], ['bridge', 'host', 'none', 'front']],
    [['scope=local', 'type=custom', 'name=^b'], ['back']],
    [['scope=swarm'], []],
  ];
  for (const [specs, want] of cases) it(`ls ${specs.join(' ')} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(names(...specs), want));
  it('ls: unknown key', () => refused(() => names('bogus=1'), "invalid filter 'bogus'"));
  it('ls: bad type', () => refused(() => names('type=x'), "invalid filter: 'type'='x'"));
  it('ls: bad dangling', () => refused(() => names('dangling=x'), 'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'));
  it('prune: label, label!, until', () => {
    const custom = nets.filter((n) => n.custom);
    const prune = (...specs: string[]) => custom.filter(networkPruneMatcher(f(...specs))).map((n) => n.name);
    assert.deepEqual(prune(), ['front', 'back']);
    assert.deepEqual(prune('label=team'), ['front']);
    assert.deepEqual(prune('label!=team'), ['back']);
    assert.deepEqual(prune('until=2026-11-30T00:00:00Z'), []);
    assert.deepEqual(prune('until=1h'), ['front', 'back']);
    refused(() => prune('name=front'), "invalid filter 'name'");
  });
});

describe('regexMatch (docker Match) on hostile patterns', () => {
  const match = (pattern: string, source: string) => regexMatch(f(`name=${pattern}`), 'name', source);
  const cases: Array<[string, string, boolean]> = [
    ['web', 'my-web-1', true],
    ['^web$', 'web', true],
    ['^web$', 'my-web', false],
    ['(?i)^WEB', 'web-1', true],
    ['(', '(', true],
    ['(', 'x(', false],
    ['[a-', 'a', false],
  ];
  for (const [pattern, source, want] of cases) it(`${pattern} vs ${source}: ${want}`, () => assert.equal(match(pattern, source), want));
  it('a nested repeat runs in no time on a long name (plain text, not backtracking)', () => {
    const started = process.hrtime.bigint();
    for (const p of ['(a+)+$', '(a*)*b', '(a|aa)+$', '((a+))+c', '(x+x+)+y', 'a*a*a*a*a*a*a*a*b', '(?:a|a){2,}$'])
      assert.equal(match(p, `${'a'.repeat(40)}!`), false);
    assert.equal(match('(a+)+', '(a+)+'), true);
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n);
  });
  const risks: Array<[string, boolean]> = [
    ['^web-[0-9]+$', false],
    ['(web|api)-1', false],
    ['^(web|api)-.*$', false],
    ['[(]+', false],
    ['\\(a+\\)+', false],
    ['(a+)+', true],
    ['(a|b)*', true],
    ['((a)+)*', true],
    ['a*b*c*d*e*', true],
  ];
  for (const [p, want] of risks) it(`backtracking risk of ${p}: ${want}`, () => assert.equal(backtrackingRisk(p), want));
  it('an overlong pattern is plain text', () => assert.equal(match('a'.repeat(600), 'a'.repeat(600)), true));
});
