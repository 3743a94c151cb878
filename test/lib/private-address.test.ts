import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { isPrivateAddress, isPrivateUrl, privateAddressOf } from '../../src/lib/private-address';

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
      // Accepted at PUT and dialled before the one address policy:
      '::127.0.0.1',
      '::ffff:0:127.0.0.1',
      'fec0::1',
      'ff02::1',
      '192.0.0.1',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
      '2001:db8::1',
      '2001::1',
    ]) {
      assert.equal(isPrivateAddress(address), true, address);
    }
  });

  it('lets public addresses and host names through (names are checked after DNS)', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '::ffff:808:808', '2606:4700:4700::1111', 'example.com']) {
      assert.equal(isPrivateAddress(address), false, address);
    }
  });

  it('judges URLs by the address their host names, in every notation a URL parser accepts', async () => {
    for (const url of [
      'http://[::127.0.0.1]/',
      'http://[::ffff:0:127.0.0.1]/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://localhost:8080/',
      'http://[fec0::1]/',
    ]) {
      assert.equal(isPrivateUrl(url), true, url);
    }
    // A name that resolves to a private address is refused when the webhook is set, not only at delivery.
    const dns = async (host: string) =>
      host === 'internal.example' ? [{ address: '93.184.215.14' }, { address: '10.0.0.5' }] : [{ address: '1.1.1.1' }];
    assert.equal(await privateAddressOf('http://internal.example/hook', dns), '10.0.0.5');
    assert.equal(await privateAddressOf('https://public.example/hook', dns), undefined);
    assert.equal(await privateAddressOf('http://8.8.8.8/hook', dns), undefined);
    // The machine's own name resolves through /etc/hosts, as a real lookup.
    assert.match((await privateAddressOf(`http://${hostname()}/hook`)) ?? 'public', /^(127\.|::1$)/);
  });
});
