/**
 * Bounded body reads (registry/body.ts): a document is refused by its Content-Length before
 * a byte is read, or as soon as the bytes counted pass the limit; an error body is cut to
 * its prefix; an unwanted body is drained only when it is small.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BerthError } from '../../src/errors/index.ts';
import { discard, readBounded, readPrefix } from '../../src/registry/body.ts';

/** A response: its headers, and a body of `chunks` (then `endless` more of 1 kB each). */
function response(headers: Record<string, string>, chunks: readonly string[], endless = 0): IncomingMessage & { pulled: () => number } {
  let pulled = 0;
  const body = new Readable({
    read() {
      if (pulled < chunks.length) this.push(Buffer.from(chunks[pulled]!));
      else if (pulled < chunks.length + endless) this.push(Buffer.alloc(1024, 0x61));
      else this.push(null);
      pulled++;
    },
  });
  return Object.assign(body, { headers, pulled: () => pulled }) as unknown as IncomingMessage & { pulled: () => number };
}

describe('readBounded', () => {
  const cases: Array<{ name: string; headers: Record<string, string>; chunks: string[]; endless?: number; limit: number; want: string | RegExp }> = [
    { name: 'a body under the limit', headers: { 'content-length': '5' }, chunks: ['ab', 'cde'], limit: 10, want: 'abcde' },
    { name: 'a chunked body exactly at the limit', headers: {}, chunks: ['abcde', 'fghij'], limit: 10, want: 'abcdefghij' },
    {
      name: 'a Content-Length over the limit, before a byte is read',
      headers: { 'content-length': '10737418240' },
      chunks: ['{'],
      limit: 10,
      want: /^the thing from here is larger than 10 bytes \(it says 10737418240 bytes\)$/,
    },
    {
      name: 'a chunked body one byte over',
      headers: {},
      chunks: ['abcde', 'fghijk'],
      limit: 10,
      want: /^the thing from here is larger than 10 bytes \(more than 11 bytes came\)$/,
    },
    { name: 'a chunked body without end', headers: {}, chunks: ['{'], endless: 1e9, limit: 4096, want: /larger than 4 KiB \(more than \d+ bytes came\)/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const limit = c.limit;
      const res = response(c.headers, c.chunks, c.endless);
      const got = await readBounded(res, 'the thing from here', limit).then(
        (b) => b.toString(),
        (e: unknown) => e,
      );
      if (typeof c.want === 'string') return assert.equal(got, c.want);
      assert.ok(got instanceof BerthError, String(got));
      assert.equal(got.code, 'DATA_CORRUPT');
      assert.match(got.message, c.want);
      assert.ok(got.hint);
      assert.ok(res.destroyed, 'the connection is dropped');
      if (c.headers['content-length']) assert.equal(res.pulled(), 0, 'refused by its Content-Length before a byte is read');
      assert.ok(res.pulled() <= c.chunks.length + Math.ceil(limit / 1024) + 1, `read ${res.pulled()} chunks: no more than the limit`);
    });
  }
});

describe('readPrefix and discard', () => {
  it('an endless error body gives its first bytes, and is dropped', async () => {
    const res = response({}, ['{"errors":'], 1e9);
    const b = await readPrefix(res, 4096);
    assert.equal(b.length, 4096);
    assert.ok(b.toString().startsWith('{"errors":aaa'));
    assert.ok(res.destroyed);
  });

  it('a short body is read whole', async () => {
    assert.equal((await readPrefix(response({}, ['no such thing']))).toString(), 'no such thing');
  });

  const drains: Array<{ headers: Record<string, string>; drained: boolean }> = [
    { headers: { 'content-length': '2' }, drained: true },
    { headers: { 'content-length': String(10 * 1024 ** 3) }, drained: false },
    { headers: {}, drained: false }, // chunked: its end is unknown
  ];
  for (const d of drains) {
    it(`discard with Content-Length ${d.headers['content-length'] ?? 'none'}: ${d.drained ? 'drained' : 'dropped'}`, () => {
      const res = response(d.headers, ['{}']);
      discard(res);
      assert.equal(res.destroyed, !d.drained);
      if (d.drained) assert.equal(res.readableFlowing, true);
    });
  }
});
