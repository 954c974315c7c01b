/**
 * `--filter` on every listing verb, the `ps` flags, and the prune prompts, through the real
 * CLI on a private root: docker's and/or rules, docker's errors, and a prune that deletes
 * nothing unless the answer is y (or -f).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyboxRoot, busyboxTar } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-cli-filters-');
const ok = (args: string[], input?: string) => {
  const r = t.run(args, { input });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const lines = (s: string) => s.split('\n').filter(Boolean);
const images = (...filters: string[]) => lines(ok(['images', '--format', '{{.Repository}}:{{.Tag}}', ...filters.flatMap((f) => ['--filter', f])])).sort();
const names = (...filters: string[]) => lines(ok(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])]));

describe('filters and prompts through the CLI', () => {
  it('sets up containers, images, volumes and networks', () => {
    ok(['create', '--name', 'c1', '--label', 'a=1', '--label', 'b', 'bb:1', 'true']);
    const r = t.run(['run', '--name', 'c2', '--label', 'a=2', '--network', 'none', 'bb:1', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
    ok(['run', '-d', '--name', 'c3', '--network', 'none', '-v', 'named:/data', 'bb:1', 'sleep', '600']);
    ok(['import', '-c', 'LABEL team=ml', busyboxTar(), 'lab:1']);
    ok(['tag', 'bb:1', 'bb:2']);
    ok(['tag', 'bb:1', 'other/x:latest']);
    ok(['volume', 'create', '--label', 'team=a', 'v1']);
    ok(['volume', 'create', 'v2']);
    ok(['network', 'create', '--label', 'team=x', 'n1']);
  });

  describe('ps --filter', () => {
    const cases: Array<[string[], string[]]> = [
      [['label=a'], ['c2', 'c1']],
      [['label=a=1'], ['c1']],
      [['label=a', 'label=b'], ['c1']],
      [
        ['name=c1', 'name=c3'],
        ['c3', 'c1'],
      ],
      [['name=^c'], ['c3', 'c2', 'c1']],
      [['status=exited'], ['c2']],
      [
        ['status=running', 'status=created'],
        ['c3', 'c1'],
      ],
      [['exited=3'], ['c2']],
      [['since=c1'], ['c3', 'c2']],
      [['before=c3'], ['c2', 'c1']],
      [['since=c1', 'before=c3'], ['c2']],
      [['ancestor=bb:1'], ['c3', 'c2', 'c1']],
      [['ancestor=nosuch:1'], []],
      [['network=none'], ['c3', 'c2']],
      [['volume=named'], ['c3']],
      [['volume=/data'], ['c3']],
      [['health=none', 'label=a=2'], ['c2']],
      [['is-task=true'], []],
    ];
    for (const [filters, want] of cases) it(`${filters.join(' ')} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(names(...filters), want));

    it('without -a a status filter lists stopped containers, exited does not', () => {
      assert.deepEqual(lines(ok(['ps', '--format', '{{.Names}}', '--filter', 'status=exited'])), ['c2']);
      assert.deepEqual(lines(ok(['ps', '--format', '{{.Names}}', '--filter', 'exited=3'])), []);
    });

    const errors: Array<[string, string, number]> = [
      ['bogus=1', "invalid filter 'bogus'", 1],
      ['label!=a', "invalid filter 'label!'", 1],
      ['status=sleeping', "invalid filter 'status=sleeping'", 1],
      ['exited=x', 'strconv.Atoi: parsing "x": invalid syntax', 1],
      ['health=sick', 'Unrecognised filter value for health: sick', 1],
      ['publish=abc', 'error while looking up for publish abc', 1],
      ['since=nosuch', 'No such container: nosuch', 1],
      ['noequals', 'bad format of filter (expected name=value)', 125],
    ];
    for (const [filter, message, code] of errors) {
      it(`${filter} is refused: ${message}`, () => {
        const r = t.run(['ps', '-a', '--filter', filter]);
        assert.notEqual(r.code, 0);
        if (code === 125) assert.equal(r.code, 125);
        assert.match(r.stderr, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        assert.equal(r.stdout, '');
      });
    }
  });

  describe('ps flags', () => {
    it('-n N: the N newest of every state', () => assert.deepEqual(lines(ok(['ps', '-n', '2', '--format', '{{.Names}}'])), ['c3', 'c2']));
    it('-l: the newest', () => assert.deepEqual(lines(ok(['ps', '-l', '--format', '{{.Names}}'])), ['c3']));
    it('-n after the filters', () => assert.deepEqual(lines(ok(['ps', '-n', '1', '--filter', 'label=a', '--format', '{{.Names}}'])), ['c2']));
    it('-n with a word is a usage error', () => assert.equal(t.run(['ps', '-n', 'x']).code, 125));
    it('-q and --no-trunc', () => {
      const short = lines(ok(['ps', '-aq']));
      const long = lines(ok(['ps', '-aq', '--no-trunc']));
      assert.equal(short.length, 3);
      for (const [i, id] of long.entries()) {
        assert.match(id, /^[0-9a-f]{64}$/);
        assert.equal(id.slice(0, 12), short[i]);
      }
    });
    it('-s: a SIZE column as docker writes it', () => {
      const out = lines(ok(['ps', '-s']));
      assert.match(out[0]!, /NAMES\s+SIZE$/);
      assert.match(out[1]!, /c3\s+\d+(\.\d+)?k?B \(virtual \d+(\.\d+)?[kM]B\)$/);
    });
    it('--format placeholders', () => {
      const out = ok(['ps', '-a', '--filter', 'name=c1', '--format', '{{.Names}}|{{.State}}|{{.Labels}}|{{.Image}}|{{.Command}}|{{.Status}}']);
      assert.equal(out, 'c1|created|a=1,b=|bb:1|"true"|Created\n');
      assert.match(ok(['ps', '--format', '{{.Names}} {{.Size}}']), /^c3 \d+(\.\d+)?k?B \(virtual /);
      assert.equal(JSON.parse(ok(['ps', '--format', 'json'])).Names, 'c3');
      assert.match(
        ok(['ps', '--format', '{{.CreatedAt}}|{{.Networks}}|{{.Mounts}}|{{.RunningFor}}']),
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+\|none\|named\|.+ ago\n$/,
      );
      assert.equal(ok(['ps', '-a', '--filter', 'name=c1', '--format', '{{.Networks}}']), 'bridge\n');
    });
  });

  describe('images, volume ls, network ls --filter', () => {
    const imageCases: Array<[string[], string[]]> = [
      [['reference=bb'], ['bb:1', 'bb:2']],
      [['reference=bb:2'], ['bb:2']],
      [['reference=*/x'], ['other/x:latest']],
      [
        ['reference=bb', 'reference=lab'],
        ['bb:1', 'bb:2', 'lab:1'],
      ],
      [['label=team=ml'], ['lab:1']],
      [['label=team', 'reference=bb'], []],
      [['dangling=true'], []],
    ];
    for (const [filters, want] of imageCases) it(`images ${filters.join(' ')}`, () => assert.deepEqual(images(...filters), want));
    it('images: unknown key and bad values', () => {
      assert.match(t.run(['images', '--filter', 'bogus=1']).stderr, /invalid filter 'bogus'/);
      assert.match(t.run(['images', '--filter', 'dangling=maybe']).stderr, /invalid filter 'dangling=\[maybe\]'/);
      assert.match(t.run(['images', '--filter', 'before=nope']).stderr, /No such image: nope:latest/);
    });

    const volumes = (...filters: string[]) => lines(ok(['volume', 'ls', '-q', ...filters.flatMap((f) => ['--filter', f])])).sort();
    const volumeCases: Array<[string[], string[]]> = [
      [['name=v'], ['v1', 'v2']],
      [['label=team'], ['v1']],
      [['label=team=b'], []],
      [['dangling=false'], ['named']],
      [
        ['dangling=true', 'name=v'],
        ['v1', 'v2'],
      ],
      [['driver=local', 'name=named'], ['named']],
    ];
    for (const [filters, want] of volumeCases) it(`volume ls ${filters.join(' ')}`, () => assert.deepEqual(volumes(...filters), want));
    it('volume ls: unknown key', () => assert.match(t.run(['volume', 'ls', '--filter', 'bogus=1']).stderr, /invalid filter 'bogus'/));

    const networks = (...filters: string[]) => lines(ok(['network', 'ls', '--format', '{{.Name}}', ...filters.flatMap((f) => ['--filter', f])]));
    const networkCases: Array<[string[], string[]]> = [
      [['name=n1'], ['n1']],
      [['type=custom'], ['n1']],
      [['type=builtin'], ['bridge', 'host', 'none']],
      [['label=team=x'], ['n1']],
      [['dangling=true'], ['n1']],
      [['driver=host'], ['host']],
    ];
    for (const [filters, want] of networkCases) it(`network ls ${filters.join(' ')}`, () => assert.deepEqual(networks(...filters), want));
    it('network ls: bad type', () => assert.match(t.run(['network', 'ls', '--filter', 'type=x']).stderr, /invalid filter: 'type'='x'/));
  });

  describe('prune prompts', () => {
    const CONTAINERS = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ';
    for (const [what, input] of [
      ['n', 'n\n'],
      ['EOF', undefined],
      ['yes (only y is a yes)', 'yes\n'],
      ['an empty line', '\n'],
    ] as const) {
      it(`container prune answered ${what}: nothing goes, exit 0`, () => {
        const r = t.run(['container', 'prune'], { input });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, CONTAINERS);
        assert.deepEqual(names('status=exited'), ['c2']);
      });
    }
    it('container prune with a filter, answered " Y ": only what the filter takes', () => {
      ok(['create', '--name', 'c4', '--label', 'keep=1', 'bb:1', 'true']);
      const out = ok(['container', 'prune', '--filter', 'label!=keep'], ' Y \n');
      assert.match(out, /Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n$/);
      assert.deepEqual(names(), ['c4', 'c3']);
    });
    it('container prune -f asks nothing', () => {
      const r = t.run(['container', 'prune', '-f'], { input: 'n\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /Are you sure/);
      assert.deepEqual(names(), ['c3']);
    });
    it('container prune: a bad filter after the question', () => {
      const r = t.run(['container', 'prune', '-f', '--filter', 'status=exited']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /invalid filter 'status'/);
    });

    it('volume prune -a answered n keeps named volumes; y takes the unused ones', () => {
      const warning = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ';
      assert.equal(ok(['volume', 'prune', '-a'], 'n\n'), warning);
      assert.deepEqual(lines(ok(['volume', 'ls', '-q'])).sort(), ['named', 'v1', 'v2']);
      assert.equal(
        ok(['volume', 'prune'], 'n\n'),
        'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ',
      );
      const out = ok(['volume', 'prune', '-a', '--filter', 'label=team'], 'y\n');
      assert.match(out, /Deleted Volumes:\nv1\n\nTotal reclaimed space: /);
      assert.deepEqual(lines(ok(['volume', 'ls', '-q'])).sort(), ['named', 'v2']);
      assert.match(t.run(['volume', 'prune', '-a', '--filter', 'all=1']).stderr, /conflicting options/);
    });

    it('network prune: n keeps, y removes', () => {
      const warning = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';
      assert.equal(ok(['network', 'prune'], 'n\n'), warning);
      assert.deepEqual(lines(ok(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}'])), ['n1']);
      assert.equal(ok(['network', 'prune'], 'y\n'), `${warning}Deleted Networks:\nn1\n\n`);
      assert.deepEqual(lines(ok(['network', 'ls', '--filter', 'type=custom', '-q'])), []);
    });

    it('image prune -a: n keeps, a filtered y takes only the labelled image', () => {
      const warning = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ';
      assert.equal(ok(['image', 'prune', '-a']), warning);
      assert.equal(ok(['image', 'prune'], 'n\n'), 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
      const out = ok(['image', 'prune', '-a', '--filter', 'label=team=ml'], 'y\n');
      assert.match(out, /Deleted Images:\nuntagged: lab:1\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: /);
      assert.deepEqual(images(), ['bb:1', 'bb:2', 'other/x:latest']);
      assert.match(t.run(['image', 'prune', '-f', '--filter', 'reference=bb']).stderr, /invalid filter 'reference'/);
    });

    it('system prune: the warning follows the flags; n keeps everything', () => {
      const out = ok(['system', 'prune', '-a', '--volumes'], 'n\n');
      assert.equal(
        out,
        'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\nAre you sure you want to continue? [y/N] ',
      );
      assert.deepEqual(images(), ['bb:1', 'bb:2', 'other/x:latest']);
      const r = t.run(['system', 'prune', '--volumes', '--filter', 'until=1h']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /The "until" filter is not supported with "--volumes"/);
      assert.equal(r.stdout, '', 'refused before the question');
    });
  });

  it('events --filter', () => {
    const out = ok(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=network', '--filter', 'event=create']);
    assert.match(out, / network create [0-9a-f]{64} \(name=n1/);
    assert.equal(lines(out).length, 1);
    assert.match(t.run(['events', '--filter', 'colour=red', '--until', '0']).stderr, /invalid filter 'colour'/);
  });
});
