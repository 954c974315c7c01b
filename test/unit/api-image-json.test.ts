/**
 * The image endpoints' pure parts, table-driven: docker's reference filter (Go's path.Match),
 * list filters, progress text, the classic builder's output from build events, the registry
 * auth headers, and the upload bound on a real HTTP request.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request } from 'node:http';
import { describe, test } from 'node:test';
import { classicBuildOutput } from '../../src/api/build-json.ts';
import type { ApiContext } from '../../src/api/http.ts';
import { imageSummaryJson } from '../../src/api/image-json.ts';
import { filterImages, filtersFromJson, pathMatch } from '../../src/services/filters/index.ts';
import { progressBar, pullMessages, type JsonMessage } from '../../src/api/progress-json.ts';
import { registryAuth, registryConfig, registryOfServer } from '../../src/api/registry-auth.ts';
import { boundedUpload } from '../../src/api/upload.ts';
import type { Digest } from '../../src/oci/digest.ts';
import type { ImageDetail } from '../../src/services/images.ts';

describe('pathMatch (Go path.Match, as the reference filter)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['bb', 'bb', true],
    ['bb', 'bb:1', false],
    ['bb:*', 'bb:1', true],
    ['b?', 'bb', true],
    ['*', 'user/app', false], // * stops at /
    ['*/*', 'user/app', true],
    ['[ab]b', 'bb', true],
    ['[!a]b', 'bb', true],
    ['[^b]b', 'bb', false],
    ['a.b', 'axb', false], // . is literal
    ['127.0.0.1:5000/x:*', '127.0.0.1:5000/x:1', true],
    ['[', 'x', false], // a bad pattern matches nothing
  ];
  for (const [pattern, name, want] of cases) test(`${pattern} vs ${name}: ${want}`, () => assert.equal(pathMatch(pattern, name), want));
});

describe('filterImages and the list rows', () => {
  const img = (id: string, tags: string[], labels: Record<string, string> | null = null, created = '2026-01-01T00:00:00Z'): ImageDetail => ({
    id: `sha256:${id.repeat(64).slice(0, 64)}` as Digest,
    tags,
    repoDigests: [],
    created,
    size: 10,
    labels,
  });
  const images = [img('a', ['bb:1', 'cap:2']), img('b', [], { tier: 'ml' }, '2026-02-01T00:00:00Z'), img('c', ['user/app:latest'], { tier: 'web' })];
  const byName = (n: string) => images.find((i) => i.tags.includes(n));
  const ids = (f: unknown) => filterImages(images, filtersFromJson(f), byName).map((i) => [i.id[7], i.tags]);

  const cases: Array<[string, unknown, unknown]> = [
    [
      'no filter',
      null,
      [
        ['a', ['bb:1', 'cap:2']],
        ['b', []],
        ['c', ['user/app:latest']],
      ],
    ],
    ['reference by repository narrows the tags', { reference: { bb: true } }, [['a', ['bb:1']]]],
    ['reference in the list form', { reference: ['user/*'] }, [['c', ['user/app:latest']]]],
    ['dangling=true', { dangling: { true: true } }, [['b', []]]],
    [
      'dangling=false',
      { dangling: ['false'] },
      [
        ['a', ['bb:1', 'cap:2']],
        ['c', ['user/app:latest']],
      ],
    ],
    [
      'label key',
      { label: ['tier'] },
      [
        ['b', []],
        ['c', ['user/app:latest']],
      ],
    ],
    ['label key=value', { label: { 'tier=ml': true } }, [['b', []]]],
    ['since an image', { since: ['bb:1'] }, [['b', []]]],
  ];
  for (const [name, filters, want] of cases) test(name, () => assert.deepEqual(ids(filters), want));

  test('bad filters are 400s', () => {
    assert.throws(() => ids({ colour: ['red'] }), /invalid filter 'colour'/);
    assert.throws(() => filtersFromJson([1]), /not an object of lists/);
    assert.throws(() => ids({ dangling: ['maybe'] }), /invalid filter/);
    assert.throws(() => ids({ before: ['nosuch:1'] }), /No such image: nosuch:1/);
  });

  test('an untagged image shows <none>, a tagged one null RepoDigests, as dockerd 20.10', () => {
    const none = imageSummaryJson(images[1]!);
    assert.deepEqual([none.RepoTags, none.RepoDigests, none.Created, none.Containers], [['<none>:<none>'], ['<none>@<none>'], 1769904000, -1]);
    assert.equal(imageSummaryJson(images[0]!).RepoDigests, null);
  });
});

describe('progress messages', () => {
  test('progressBar is jsonmessage.JSONProgress', () => {
    assert.equal(progressBar(0, 300309), `[>${' '.repeat(50)}]       0B/300.3kB`);
    assert.equal(progressBar(150000, 300000), `[${'='.repeat(25)}>${' '.repeat(25)}]    150kB/300kB`);
    assert.equal(progressBar(5, 0), '      5B/0B');
  });

  test('a pull shows layers only, never the config blob', () => {
    const out: JsonMessage[] = [];
    const on = pullMessages((m) => out.push(m));
    const layer = `sha256:${'1'.repeat(64)}` as Digest;
    const config = `sha256:${'2'.repeat(64)}` as Digest;
    on({ kind: 'blob-done', digest: config, skipped: 'exists', label: 'application/vnd.oci.image.config.v1+json' });
    on({ kind: 'blob-start', digest: layer, size: 100, label: 'application/vnd.oci.image.layer.v1.tar+gzip' });
    on({ kind: 'blob-progress', digest: layer, bytes: 50, size: 100 });
    on({ kind: 'blob-done', digest: layer });
    assert.deepEqual(
      out.map((m) => m.status),
      ['Pulling fs layer', 'Downloading', 'Download complete', 'Pull complete'],
    );
    assert.equal(out[0]!.id, '111111111111');
    assert.deepEqual(out[1]!.progressDetail, { current: 50, total: 100 });
  });
});

describe('classicBuildOutput', () => {
  test('steps, RUN output, cache hits, and the image id as the last step id', () => {
    const out: string[] = [];
    const aux: unknown[] = [];
    const b = classicBuildOutput(
      (m) => (m.stream !== undefined ? out.push(String(m.stream)) : aux.push(m.aux)),
      3,
      (n) => (n === 'bb:1' ? '5435be59f8fe' : undefined),
    );
    b.emit({ kind: 'step-start', step: 1, name: '[stage-0] FROM bb:1' });
    b.emit({ kind: 'step-done', step: 1, seconds: 0 });
    b.emit({ kind: 'step-start', step: 2, name: '[stage-0 1/2] RUN echo hi' });
    b.emit({ kind: 'step-log', step: 2, stream: 'stdout', text: 'hi\n' });
    b.emit({ kind: 'step-done', step: 2, seconds: 0.1 });
    b.emit({ kind: 'step-start', step: 3, name: '[stage-0 2/2] COPY f /f' });
    b.emit({ kind: 'step-cached', step: 3 });
    b.emit({ kind: 'step-done', step: 3, seconds: 0 });
    b.finish(`sha256:${'d'.repeat(64)}`, ['cap:1']);
    const text = out.join('');
    assert.match(
      text,
      /^Step 1\/3 : FROM bb:1\n ---> 5435be59f8fe\nStep 2\/3 : RUN echo hi\n ---> Running in ([a-f0-9]{12})\nhi\nRemoving intermediate container \1\n ---> [a-f0-9]{12}\n/,
    );
    assert.match(text, /Step 3\/3 : COPY f \/f\n ---> Using cache\n ---> dddddddddddd\nSuccessfully built dddddddddddd\nSuccessfully tagged cap:1\n$/);
    assert.deepEqual(aux, [{ ID: `sha256:${'d'.repeat(64)}` }]);
  });
});

describe('registry auth headers', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const cases: Array<[string, string | undefined, unknown]> = [
    ['absent', undefined, null],
    ['e30= is {}', 'e30=', null],
    ['username and password', b64({ username: 'u', password: 'p', serveraddress: 'x' }), { username: 'u', password: 'p' }],
    ['auth field', b64({ auth: Buffer.from('u:p:q').toString('base64') }), { username: 'u', password: 'p:q' }],
    ['standard base64 without padding', Buffer.from('{"username":"u"}').toString('base64').replace(/=+$/, ''), { username: 'u', password: '' }],
  ];
  for (const [name, header, want] of cases)
    test(name, () => assert.deepEqual(registryAuth(req(header === undefined ? {} : { 'x-registry-auth': header })), want));

  test('malformed headers are 400s', () => {
    for (const bad of ['%%%', Buffer.from('[').toString('base64'), b64([1]), b64({ password: 3 }), 'A'.repeat(70_000)])
      assert.throws(
        () => registryAuth(req({ 'x-registry-auth': bad })),
        (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT',
      );
  });

  test('X-Registry-Config: credentials by registry, docker.io under its historical key', () => {
    const m = registryConfig(req({ 'x-registry-config': b64({ 'https://index.docker.io/v1/': { username: 'a', password: 'b' }, '127.0.0.1:5000': {} }) }));
    assert.deepEqual([...m], [['docker.io', { username: 'a', password: 'b' }]]);
    assert.equal(registryOfServer('https://reg.example:5000/v2/'), 'reg.example:5000');
  });
});

describe('boundedUpload', () => {
  /** One request to an in-process server whose handler reads the body through boundedUpload. */
  async function upload(limit: number, chunks: Buffer[], headers: Record<string, string> = {}): Promise<string> {
    const server = createServer((req, res) => {
      const ctx = { req, res, headers: req.headers } as unknown as ApiContext;
      void (async () => {
        try {
          const { head, body } = await boundedUpload(ctx, 'body', limit, 4);
          let n = 0;
          for await (const c of body) n += (c as Buffer).length;
          res.end(`ok ${head.length} ${n}`);
        } catch (e) {
          res.end(`error ${(e as Error).message}`);
        }
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      return await new Promise((resolve, reject) => {
        const r = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers }, (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve(text));
        });
        r.on('error', reject);
        for (const c of chunks) r.write(c);
        r.end();
      });
    } finally {
      server.close();
      server.closeAllConnections();
    }
  }

  test('a body within the limit passes whole, its head read ahead', async () => {
    assert.equal(await upload(100, [Buffer.alloc(10), Buffer.alloc(50)]), 'ok 4 60');
    assert.equal(await upload(100, []), 'ok 0 0');
  });

  test('a chunked body past the limit fails the stream; a declared one is refused at once', async () => {
    assert.match(await upload(100, [Buffer.alloc(60), Buffer.alloc(60)]), /^error the body is too large: more than 100 bytes/);
    assert.match(await upload(100, [Buffer.alloc(10)], { 'Content-Length': '1000000' }).catch((e: Error) => `error ${e.message}`), /^error/);
  });
});
