/** `-p` parsing: Docker's accepted forms and its refusals, side by side. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { formatPortMapping, parsePublish, type PortMapping } from '../../src/network/index.ts';

const tcp = (hostIp: string, hostPort: number, containerPort: number): PortMapping => ({ hostIp, hostPort, containerPort, protocol: 'tcp' });

describe('parsePublish: accepted forms', () => {
  const cases: Array<[string, PortMapping[]]> = [
    ['80', [tcp('', 0, 80)]],
    ['8080:80', [tcp('', 8080, 80)]],
    ['127.0.0.1:8080:80', [tcp('127.0.0.1', 8080, 80)]],
    ['0.0.0.0:8080:80', [tcp('0.0.0.0', 8080, 80)]],
    ['127.0.0.1::80', [tcp('127.0.0.1', 0, 80)]],
    [':80', [tcp('', 0, 80)]],
    ['8080:80/udp', [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'udp' }]],
    ['8080:80/TCP', [tcp('', 8080, 80)]],
    ['53/sctp', [{ hostIp: '', hostPort: 0, containerPort: 53, protocol: 'sctp' }]],
    ['[::1]:8080:80', [tcp('::1', 8080, 80)]],
    ['[::1]::80', [tcp('::1', 0, 80)]],
    ['::1:8080:80', [tcp('::1', 8080, 80)]],
    ['[2001:db8::1]:443:443/tcp', [tcp('2001:db8::1', 443, 443)]],
    ['8000-8002:80-82', [tcp('', 8000, 80), tcp('', 8001, 81), tcp('', 8002, 82)]],
    ['80-81', [tcp('', 0, 80), tcp('', 0, 81)]],
    [
      '127.0.0.1:9000-9001:9000-9001/udp',
      [
        { hostIp: '127.0.0.1', hostPort: 9000, containerPort: 9000, protocol: 'udp' },
        { hostIp: '127.0.0.1', hostPort: 9001, containerPort: 9001, protocol: 'udp' },
      ],
    ],
    ['8000-8010:80', [{ hostIp: '', hostPort: 8000, hostPortEnd: 8010, containerPort: 80, protocol: 'tcp' }]],
    ['65535:1', [tcp('', 65535, 1)]],
    [' 8080:80 ', [tcp('', 8080, 80)]],
  ];
  for (const [spec, want] of cases) {
    it(spec, () => assert.deepEqual(parsePublish(spec), want));
  }
});

describe('parsePublish: refusals', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty specification/],
    ['abc', /container port "abc"/],
    ['0', /ports are 1-65535/],
    ['65536', /ports are 1-65535/],
    ['8080:', /no container port/],
    ['80/foo', /protocol "foo".*tcp, udp or sctp/],
    ['82-80', /end is before the start/],
    ['8000-8001:80-82', /differ in size/],
    ['8000:80-82', /differ in size/],
    ['1.2.3:80:80', /IP address "1.2.3"/],
    ['localhost:80:80', /IP address "localhost"/],
    ['127.0.0.1:8080', /host port "127.0.0.1"/],
    ['8080:80:90', /IP address "8080"/],
    ['[::1:8080:80', /unbalanced brackets/],
    ['8080:-80', /container port "-80"/],
  ];
  for (const [spec, message] of cases) {
    it(JSON.stringify(spec), () => {
      assert.throws(
        () => parsePublish(spec),
        (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && message.test(e.message),
      );
    });
  }
});

describe('formatPortMapping', () => {
  const cases: Array<[PortMapping, string]> = [
    [tcp('', 8080, 80), '0.0.0.0:8080->80/tcp'],
    [tcp('::1', 8080, 80), '[::1]:8080->80/tcp'],
    [{ hostIp: '127.0.0.1', hostPort: 53, containerPort: 53, protocol: 'udp' }, '127.0.0.1:53->53/udp'],
  ];
  for (const [p, want] of cases) it(want, () => assert.equal(formatPortMapping(p), want));
});
