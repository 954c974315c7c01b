/** `network create --subnet/--gateway`, checked with docker's words (its daemon's replies, 20.10). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAddresses } from '../../src/network/user.ts';

describe('checkAddresses', () => {
  const accepted: Array<[{ subnet?: string; gateway?: string }, { subnet?: string; gateway?: string }]> = [
    [{}, {}],
    [{ subnet: '10.99.0.0/24' }, { subnet: '10.99.0.0/24' }],
    [{ subnet: '10.1.1.5/24' }, { subnet: '10.1.1.0/24' }], // host bits: kept as the network address
    [{ subnet: '10.1.1.0/024' }, { subnet: '10.1.1.0/24' }],
    [
      { subnet: '172.30.0.0/16', gateway: '172.30.255.254' },
      { subnet: '172.30.0.0/16', gateway: '172.30.255.254' },
    ],
    [
      { subnet: '10.1.1.0/30', gateway: '10.1.1.2' },
      { subnet: '10.1.1.0/30', gateway: '10.1.1.2' },
    ],
  ];
  for (const [input, want] of accepted) it(`takes ${JSON.stringify(input)}`, () => assert.deepEqual(checkAddresses(input), want));

  const refused: Array<[{ subnet?: string; gateway?: string }, string]> = [
    [{ subnet: '999.1.1.0/24' }, 'Invalid subnet 999.1.1.0/24 : invalid CIDR address: 999.1.1.0/24'],
    [{ subnet: '10.1.1.0/33' }, 'Invalid subnet 10.1.1.0/33 : invalid CIDR address: 10.1.1.0/33'],
    [{ subnet: '10.1.1.0' }, 'Invalid subnet 10.1.1.0 : invalid CIDR address: 10.1.1.0'],
    [{ subnet: '10.1.01.0/24' }, 'Invalid subnet 10.1.01.0/24 : invalid CIDR address: 10.1.01.0/24'],
    [{ subnet: '10.1.1/24' }, 'Invalid subnet 10.1.1/24 : invalid CIDR address: 10.1.1/24'],
    [{ subnet: 'fd00::/64' }, 'Invalid subnet fd00::/64 : invalid CIDR address: fd00::/64'],
    [{ subnet: '10.1.1.0/31' }, 'failed to allocate gateway (): No available addresses on this pool'],
    [{ gateway: '10.2.2.1' }, 'every ip-range or gateway must have a corresponding subnet'],
    [{ subnet: '10.1.1.0/24', gateway: '999.1.1.1' }, 'no matching subnet for gateway 999.1.1.1'],
    [{ subnet: '10.1.1.0/24', gateway: '10.2.2.1' }, 'no matching subnet for gateway 10.2.2.1'],
    [{ subnet: '10.1.1.0/24', gateway: '10.1.1.0' }, 'failed to allocate gateway (10.1.1.0): Address already in use'],
    [{ subnet: '10.1.1.0/24', gateway: '10.1.1.255' }, 'failed to allocate gateway (10.1.1.255): Address already in use'],
  ];
  for (const [input, message] of refused) {
    it(`refuses ${JSON.stringify(input)}`, () =>
      assert.throws(
        () => checkAddresses(input),
        (e: Error & { code?: string }) => e.message === message && e.code === 'INVALID_ARGUMENT',
      ));
  }
});
