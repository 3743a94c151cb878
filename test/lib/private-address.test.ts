import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress } from '../../src/lib/private-address';

describe('isPrivateAddress', () => {
  it('refuses loopback, private, link-local, CGNAT, benchmark and IPv4-embedding IPv6 ranges', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '198.18.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      '2002:a00:1::1',
    ]) {
      assert.equal(isPrivateAddress(address), true, address);
    }
  });

  it('lets public addresses and host names through (names are checked after DNS)', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '::ffff:808:808', '2606:4700:4700::1111', 'example.com']) {
      assert.equal(isPrivateAddress(address), false, address);
    }
  });
});
