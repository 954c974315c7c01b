/** The path tree of `image explain`: whiteouts, opaque dirs and overwrites, as overlayfs applies them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathTree } from '../../src/explain/tree.ts';
import { matchDockerfileLines, historyLines } from '../../src/explain/dockerfile-lines.ts';
import type { TarHeader } from '../../src/layer/index.ts';

function h(name: string, type: TarHeader['type'] = 'file', size = 0): TarHeader {
  return { name, type, size, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() };
}

/** Applies layers of entries; returns the final files and the waste. */
function build(layers: TarHeader[][]) {
  const tree = new PathTree();
  layers.forEach((entries, i) => {
    for (const e of entries) tree.apply(e, i);
  });
  const files = [...tree.files()].map(({ parts, node }) => `/${parts.join('/')}@${node.layer}`).sort();
  const wasted = tree.wasted.map((w) => `${w.kind} ${w.path} ${w.size}/${w.files} ${w.addedIn}->${w.removedIn}`).sort();
  return { files, wasted };
}

describe('explain path tree', () => {
  const cases: Array<{ name: string; layers: TarHeader[][]; files: string[]; wasted: string[] }> = [
    {
      name: 'a whiteout deletes a file',
      layers: [[h('a/', 'directory'), h('a/big', 'file', 100), h('a/keep', 'file', 1)], [h('a/.wh.big')]],
      files: ['/a/keep@0'],
      wasted: ['deleted /a/big 100/1 0->1'],
    },
    {
      name: 'a whiteout of a dir counts its files per layer that wrote them',
      layers: [[h('d/x', 'file', 10)], [h('d/y', 'file', 20)], [h('.wh.d')]],
      files: [],
      wasted: ['deleted /d 10/1 0->2', 'deleted /d 20/1 1->2'],
    },
    {
      name: 'an opaque dir hides lower content but keeps its own layer, whatever the entry order',
      layers: [
        [h('d/old', 'file', 7), h('d/sub/old2', 'file', 3)],
        [h('d/new', 'file', 5), h('d/.wh..wh..opq')],
      ],
      files: ['/d/new@1'],
      wasted: ['deleted /d/old 7/1 0->1', 'deleted /d/sub 3/1 0->1'],
    },
    {
      name: 'a rewritten file (chmod copy-up) is overwritten; a dir entry again is not',
      layers: [
        [h('etc/', 'directory'), h('etc/f', 'file', 50)],
        [h('etc/', 'directory'), h('etc/f', 'file', 50)],
      ],
      files: ['/etc/f@1'],
      wasted: ['overwritten /etc/f 50/1 0->1'],
    },
    {
      name: 'a file replaced by a dir, and names that climb out are ignored',
      layers: [[h('x', 'file', 9)], [h('x/y', 'file', 1), h('../../etc/passwd', 'file', 4), h('./z/../../q', 'file', 4)]],
      files: ['/x/y@1'],
      wasted: ['overwritten /x 9/1 0->1'],
    },
    {
      name: 'a whiteout of nothing is no waste',
      layers: [[h('a', 'file', 1)], [h('.wh.b'), h('c/.wh.d')]],
      files: ['/a@0'],
      wasted: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = build(c.layers);
      assert.deepEqual(got.files, c.files);
      assert.deepEqual(got.wasted, c.wasted);
    });
  }

  it('a deep tree of many whiteouts stays linear', () => {
    const n = 50_000;
    const lower = Array.from({ length: n }, (_, i) => h(`d${i % 100}/f${i}`, 'file', 1));
    const upper = Array.from({ length: 100 }, (_, i) => h(`.wh.d${i}`));
    const t0 = Date.now();
    const got = build([lower, upper]);
    assert.equal(got.files.length, 0);
    assert.equal(got.wasted.length, 100);
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('explain Dockerfile lines', () => {
  it('matches history to instructions from the top down, leaving the base image without lines', () => {
    const df = 'FROM bb:1\nRUN echo a\nRUN --mount=type=cache,target=/c \\\n  echo b\nCOPY x /x\nENV A=1\nCMD ["sh", "-c", "echo"]\n';
    const history = [
      'ADD file:abc in / ',
      'RUN /bin/sh -c echo a # buildkit',
      'RUN /bin/sh -c echo b # buildkit',
      'COPY x /x # buildkit',
      'ENV A=1',
      'CMD ["sh" "-c" "echo"]',
    ];
    assert.deepEqual(
      matchDockerfileLines(history, df, 'Dockerfile').map((l) => l && `${l.line}-${l.endLine}`),
      [null, '2-2', '3-4', '5-5', '6-6', null],
    );
  });

  it('takes the lines a build kept when they fit the history, else matches the text, else names none', () => {
    const history = ['ADD file:abc in / ', 'RUN /bin/sh -c echo a # buildkit'];
    const kept = [null, [3, 4]] as const;
    assert.deepEqual(
      historyLines(history, { file: 'F', text: 'FROM x\nRUN echo a\n', lines: kept }).map((l) => l && `${l.file}:${l.line}-${l.endLine}`),
      [null, 'F:3-4'],
    );
    // Lines for another history (a different length) are not trusted: the text is matched instead.
    assert.deepEqual(
      historyLines(history, { file: 'F', text: 'FROM x\nRUN echo a\n', lines: [[1, 1]] }).map((l) => l?.line ?? null),
      [null, 2],
    );
    assert.deepEqual(historyLines(history, { file: 'F', lines: [[1, 1]] }), [null, null]);
  });
});
