/**
 * `berth image explain` on images built with known waste: a 50 MB file added then deleted,
 * a pip cache left in, a file copied twice, a chmod that copies a file up, apt lists and a
 * .git dir; each found with the Dockerfile line that made it. Then the JSON schema, the HTML
 * page as headless chromium draws it, and hostile images (many files, names that are HTML
 * or terminal escapes).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { explainReportSchema, LAYER_COLORS, type ExplainReport } from '../../src/explain/index.ts';
import { BERTH, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { countColors, decodePng } from '../helpers/png.ts';

const t = tempRoot('berth-explain-');
const work = mkdtempSync(join(tmpdir(), 'berth-explain-ctx-'));
const ctx = join(work, 'ctx');
const dockerfile = join(ctx, 'Dockerfile');

const DOCKERFILE = [
  'FROM bb:1',
  'RUN dd if=/dev/zero of=/big bs=1M count=50',
  'COPY blob.bin /opt/a/blob.bin',
  'RUN rm /big',
  'RUN mkdir -p /root/.cache/pip/wheels && dd if=/dev/urandom of=/root/.cache/pip/wheels/torch.whl bs=1k count=3000',
  'COPY data.txt /data.txt',
  'RUN chmod 600 /data.txt',
  'COPY blob.bin /opt/b/copy.bin',
  'RUN mkdir -p /var/lib/apt/lists/partial /src/.git && echo lists > /var/lib/apt/lists/deb_InRelease && echo ref > /src/.git/HEAD',
  '',
].join('\n');

before(() => {
  assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
  mkdirSync(ctx, { recursive: true });
  writeFileSync(dockerfile, DOCKERFILE);
  writeFileSync(join(ctx, 'blob.bin'), Buffer.alloc(300_000, 7));
  writeFileSync(join(ctx, 'data.txt'), 'd'.repeat(100_000));
  const r = t.run(['build', '--network', 'none', '-t', 'waste:1', ctx]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function explainJson(...args: string[]): ExplainReport {
  const r = t.run(['image', 'explain', '--format', 'json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ExplainReport;
}

/** The escape character that starts a terminal control sequence. */
const ESC = String.fromCharCode(27);

/** The Dockerfile line of layer `i`. */
const lineOf = (r: ExplainReport, i: number) => r.layers[i]?.source?.line;

describe('image explain: an image with known waste', () => {
  let report: ExplainReport;
  /** The terminal view (piped, NO_COLOR), printed by the same run that wrote the page. */
  let terminal: string;
  const page = join(work, 'waste.html');
  before(() => {
    report = explainJson('--file', dockerfile, 'waste:1');
    const r = t.run(['image', 'explain', '-f', dockerfile, '--html', page, 'waste:1'], { env: { NO_COLOR: '1' } });
    assert.equal(r.code, 0, r.stderr);
    terminal = r.stdout;
  });

  it('names the line behind each layer, and nothing for the base image', () => {
    assert.deepEqual(
      report.layers.map((l) => l.source?.line ?? null),
      [null, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(report.layers[0]!.source, null);
    assert.match(report.layers[1]!.instruction, /dd if=\/dev\/zero of=\/big/);
    assert.equal(report.layers[1]!.biggestFiles[0]?.path, '/big');
    assert.equal(report.layers[1]!.size, 50 * 1024 * 1024);
    assert.equal(report.layers[1]!.finalSize, 0, 'nothing of /big is left in the final tree');
  });

  it('finds the 50 MB file a later RUN deletes, with both lines', () => {
    const big = report.wasted.find((w) => w.path === '/big');
    assert.ok(big, JSON.stringify(report.wasted));
    assert.equal(big.kind, 'deleted');
    assert.equal(big.size, 50 * 1024 * 1024);
    assert.equal(lineOf(report, big.addedIn), 2);
    assert.equal(lineOf(report, big.removedIn), 4);
  });

  it('finds the file a chmod copied up as overwritten', () => {
    const data = report.wasted.find((w) => w.path === '/data.txt');
    assert.ok(data, JSON.stringify(report.wasted));
    assert.equal(data.kind, 'overwritten');
    assert.equal(data.size, 100_000);
    assert.equal(lineOf(report, data.addedIn), 6);
    assert.equal(lineOf(report, data.removedIn), 7);
    assert.equal(report.wastedSize, 50 * 1024 * 1024 + 100_000);
  });

  it('finds the pip cache, apt lists and .git left in, with the fix and the lint rule', () => {
    const pip = report.caches.find((c) => c.kind === 'pip');
    assert.ok(pip, JSON.stringify(report.caches));
    assert.equal(pip.path, '/root/.cache/pip');
    assert.equal(pip.size, 3000 * 1024);
    assert.equal(lineOf(report, pip.layer), 5);
    assert.deepEqual(pip.lintRule, { id: 'BL006', name: 'pip-cache-in-layer' });
    assert.match(pip.fix, /--no-cache-dir/);
    const apt = report.caches.find((c) => c.kind === 'apt-lists');
    assert.equal(apt?.path, '/var/lib/apt/lists');
    assert.equal(apt.files, 1, 'the partial dir is no cache');
    assert.equal(apt.lintRule?.id, 'BL004');
    assert.equal(lineOf(report, apt.layer), 9);
    assert.equal(report.caches.find((c) => c.kind === 'git')?.path, '/src/.git');
  });

  it('finds the file copied twice, in both layers', () => {
    const dup = report.duplicates.find((d) => d.size === 300_000);
    assert.ok(dup, JSON.stringify(report.duplicates));
    assert.deepEqual(
      dup.copies.map((c) => [c.path, lineOf(report, c.layer)]),
      [
        ['/opt/a/blob.bin', 3],
        ['/opt/b/copy.bin', 8],
      ],
    );
    assert.equal(dup.wasted, 300_000);
    assert.equal(report.duplicatesTruncated, false);
  });

  it('--format json follows the published schema, strictly', () => {
    const parsed = explainReportSchema.safeParse(report);
    assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
    assert.equal(report.schemaVersion, 1);
    assert.deepEqual(Object.keys(report), [
      'schemaVersion',
      'image',
      'dockerfile',
      'totalSize',
      'totalFiles',
      'wastedSize',
      'layers',
      'wasted',
      'duplicates',
      'duplicatesTruncated',
      'caches',
    ]);
    assert.deepEqual(report.image.names, ['waste:1']);
    // Without --file, the lines the build kept with the image: the same report.
    assert.deepEqual(explainJson('waste:1'), report);
  });

  it('the terminal view, piped, has bars and lines but no colour; NO_COLOR is honoured', () => {
    assert.ok(!terminal.includes(ESC));
    assert.match(terminal, /█/);
    assert.match(terminal, /52\.4MB {2}\/big: added by #1 \(Dockerfile:2\), deleted by #3 \(Dockerfile:4\)/);
    assert.match(terminal, /pip download cache \/root\/\.cache\/pip .*Dockerfile:5/);
    assert.match(terminal, /berth lint: BL006 pip-cache-in-layer/);
  });

  it('on a terminal the bars are coloured by layer, unless NO_COLOR is set', () => {
    // script(1) gives berth a pseudo-terminal for its stdout.
    const onTty = (noColor: string) =>
      execFileSync('script', ['-qec', `${BERTH} --root ${t.root} image explain -f ${dockerfile} waste:1`, '/dev/null'], {
        env: { ...process.env, NO_COLOR: noColor },
        encoding: 'utf8',
      });
    assert.ok(onTty('').includes(`${ESC}[38;5;`));
    const plain = onTty('1');
    assert.ok(!plain.includes(ESC));
    assert.match(plain, /Dockerfile:2/);
  });

  it('--html writes one self-contained page whose screenshot shows the treemap in layer colours', () => {
    const text = readFileSync(page, 'utf8');
    assert.doesNotMatch(text, /\b(src|href)=["']?https?:/i, 'nothing is fetched');
    assert.match(text, /<svg id="treemap"/);
    const shot = join(work, 'waste.png');
    const profile = mkdtempSync(join(work, 'chromium-'));
    const c = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--no-first-run',
        '--disable-dev-shm-usage',
        `--user-data-dir=${profile}`,
        `--screenshot=${shot}`,
        '--window-size=1280,900',
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    assert.equal(c.status, 0, c.stderr);
    const counts = countColors(
      decodePng(readFileSync(shot)),
      report.layers.map((l) => LAYER_COLORS[l.index % LAYER_COLORS.length]!),
    );
    const legendSwatch = 12 * 12 + 10 * 10; // the legend's and the table's squares
    // The pip cache (layer 4, 3 MB) and busybox (layer 0, 2 MB) fill most of the map.
    assert.ok(counts[4]! > 100_000, `pip layer pixels: ${counts}`);
    assert.ok(counts[0]! > 50_000, `base layer pixels: ${counts}`);
    assert.ok(counts[4]! > counts[0]!, `the bigger layer has the bigger area: ${counts}`);
    // /big is gone from the final tree: its layer is only in the legend.
    assert.ok(counts[1]! <= 2 * legendSwatch, `deleted layer pixels: ${counts}`);
  });
});

describe('image explain without --file', () => {
  it('names the lines the build kept: the 50 MB file deleted and the pip cache', () => {
    const r = explainJson('waste:1');
    assert.equal(r.dockerfile, 'Dockerfile');
    assert.deepEqual(
      r.layers.map((l) => l.source?.line ?? null),
      [null, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const big = r.wasted.find((w) => w.path === '/big')!;
    assert.deepEqual([lineOf(r, big.addedIn), lineOf(r, big.removedIn)], [2, 4]);
    assert.equal(lineOf(r, r.caches.find((c) => c.kind === 'pip')!.layer), 5);
    const text = t.run(['image', 'explain', 'waste:1'], { env: { NO_COLOR: '1' } });
    assert.match(text.stdout, /\/big: added by #1 \(Dockerfile:2\), deleted by #3 \(Dockerfile:4\)/);
  });

  it("a multi-stage build names each stage's lines and its Dockerfile's name; a loaded image names none", () => {
    const dir = join(work, 'stages');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'app.Dockerfile');
    writeFileSync(file, 'FROM bb:1 AS base\nRUN echo base > /base\n\nFROM base\n# a comment\nRUN echo one > /one \\\n && echo two > /two\nENV A=1\n');
    const b = t.run(['build', '--network', 'none', '-q', '-f', file, '-t', 'stages:1', dir]);
    assert.equal(b.code, 0, b.stderr);
    const r = explainJson('stages:1');
    assert.equal(r.dockerfile, 'app.Dockerfile');
    assert.deepEqual(
      r.layers.map((l) => (l.source ? [l.source.file, l.source.line, l.source.endLine] : null)),
      [null, ['app.Dockerfile', 2, 2], ['app.Dockerfile', 6, 7]],
    );
    // Loaded back after rmi: the same image id, but nothing kept (it went with the image).
    const tar = join(work, 'stages.tar');
    assert.equal(t.run(['save', '-o', tar, 'stages:1']).code, 0);
    assert.equal(t.run(['rmi', 'stages:1']).code, 0);
    assert.equal(t.run(['load', '-i', tar]).code, 0);
    const loaded = explainJson('stages:1');
    assert.equal(loaded.image.id, r.image.id);
    assert.equal(loaded.dockerfile, null);
    assert.ok(loaded.layers.every((l) => l.source === null));
    assert.match(loaded.layers[2]!.instruction, /echo one/, "the history's created_by, as before");
    // --file still matches the given Dockerfile against the history.
    assert.equal(explainJson('-f', file, 'stages:1').layers[2]!.source?.line, 6);
  });
});

describe('image explain: hostile input', () => {
  it('a missing image is a docker-like error, and bad flags are refused', () => {
    const r = t.run(['image', 'explain', 'nope:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such image: nope:1/);
    const f = t.run(['image', 'explain', '--format', 'xml', 'waste:1']);
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /unknown format "xml"/);
    const d = t.run(['image', 'explain', '-f', join(work, 'no-such-Dockerfile'), 'waste:1']);
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /cannot read the Dockerfile/);
    const h = t.run(['image', 'explain', '--html', join(work, 'no-such-dir', 'x.html'), 'waste:1']);
    assert.notEqual(h.code, 0);
    assert.match(h.stderr, /cannot write .*x\.html: ENOENT/);
  });

  it('a layer of many files and names made of HTML and terminal escapes', () => {
    const tar = join(work, 'hostile.tar');
    const script = `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    def add(name, data):
        info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o644
        tf.addfile(info, io.BytesIO(data))
    for i in range(10000):
        add('many/d%d/f%d' % (i // 500, i), b'x')
    add('evil/<script>alert(1)</script>', b'y' * 5000000)
    add('evil/\\x1b[31mred\\x1b]0;title\\x07', b'z' * 3000000)
    add('evil/new\\nline &amp; "q"', b'w' * 2000000)
`;
    execFileSync('python3', ['-c', script, tar]);
    assert.equal(t.run(['import', tar, 'hostile:1']).code, 0);
    const r = t.run(['image', 'explain', '--html', join(work, 'hostile.html'), 'hostile:1']);
    assert.equal(r.code, 0, r.stderr);
    const controls = [...r.stdout].filter((c) => (c < ' ' && c !== '\n') || c === '\u007f');
    assert.deepEqual(controls, [], 'no control character reaches the terminal');
    assert.ok(r.stdout.includes('\\x1b[31mred\\x1b]0;title\\x07'));
    assert.match(r.stdout, /new\\x0aline/);
    const page = readFileSync(join(work, 'hostile.html'), 'utf8');
    assert.doesNotMatch(page, /<script>alert/);
    assert.match(page, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    assert.equal((page.match(/<script>/g) ?? []).length, 1, "only the page's own script");
    assert.ok((page.match(/<rect /g) ?? []).length < 5000, 'small files are folded in the treemap');
    const json = explainJson('hostile:1');
    assert.equal(json.totalFiles, 10003);
    assert.ok(json.layers[0]!.biggestFiles.some((f) => f.path === '/evil/<script>alert(1)</script>'));
  });
});
