/** `-v` specs taken or refused with the docker CLI's words. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseV } from '../../src/container/mounts.ts';

describe('parseV', () => {
  const accepted: Array<[string, { source: string; dest: string; ro: boolean }]> = [
    ['/data', { source: '', dest: '/data', ro: false }],
    ['vol:/data', { source: 'vol', dest: '/data', ro: false }],
    ['/host:/data:ro', { source: '/host', dest: '/data', ro: true }],
    ['/host:/data:ro,z', { source: '/host', dest: '/data', ro: true }],
  ];
  for (const [spec, want] of accepted) it(`takes ${spec}`, () => assert.deepEqual(parseV(spec), want));

  const refused: Array<[string, string]> = [
    ['', 'invalid empty volume spec'],
    [':/x', 'invalid spec: :/x: empty section between colons'],
    ['/a::/x', 'invalid spec: /a::/x: empty section between colons'],
    ['/a:/x:', 'invalid spec: /a:/x:: empty section between colons'],
    ['/a:/x::ro', 'invalid spec: /a:/x::ro: empty section between colons'],
    ['/a:/x:ro:z', 'invalid spec: /a:/x:ro:z: too many colons'],
    ['/a:/x:bogus', 'invalid mode: bogus'],
  ];
  for (const [spec, message] of refused) {
    it(`refuses ${JSON.stringify(spec)}`, () =>
      assert.throws(
        () => parseV(spec),
        (e: Error & { code?: string }) => e.message === message && e.code === 'INVALID_ARGUMENT',
      ));
  }
});
