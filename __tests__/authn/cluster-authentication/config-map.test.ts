import { beforeAll, describe, expect, it } from '@jest/globals';
import { readClusterAuthentication } from '../../../lib/authn/cluster-authentication/config-map.js';
import { createCA, extensionApiserverAuthentication } from '../../../lib/testing/index.js';

let ca: string;
let two: string;
beforeAll(async () => {
  const [a, b] = await Promise.all([createCA({ commonName: 'a' }), createCA({ commonName: 'b' })]);
  ca = a.cert;
  two = `${a.cert}${b.cert}`;
});

const BROKEN_PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

describe('readClusterAuthentication', () => {
  it('reads what kube-apiserver writes', () => {
    const config = readClusterAuthentication(
      extensionApiserverAuthentication({
        clientCA: two,
        requestHeaderCA: ca,
        allowedNames: ['front-proxy-client'],
        uidHeaders: [],
      }),
    );
    expect(config).toEqual({
      clientCA: { kind: 'valid', value: { pem: two, certificates: 2 } },
      requestHeader: {
        kind: 'valid',
        value: {
          ca: { pem: ca, certificates: 1 },
          settings: {
            allowedNames: ['front-proxy-client'],
            usernameHeaders: ['X-Remote-User'],
            uidHeaders: [],
            groupHeaders: ['X-Remote-Group'],
            extraHeaderPrefixes: ['X-Remote-Extra-'],
          },
        },
      },
    });
  });

  it('reads a key left out, empty or null as an empty list, with no defaults (as upstream)', () => {
    const config = readClusterAuthentication({
      'requestheader-client-ca-file': ca,
      'requestheader-username-headers': '["X-Remote-User"]',
      'requestheader-group-headers': '',
      'requestheader-uid-headers': 'null',
    });
    expect(config.requestHeader).toEqual({
      kind: 'valid',
      value: {
        ca: { pem: ca, certificates: 1 },
        settings: {
          allowedNames: [],
          usernameHeaders: ['X-Remote-User'],
          uidHeaders: [],
          groupHeaders: [],
          extraHeaderPrefixes: [],
        },
      },
    });
    expect(config.clientCA).toEqual({ kind: 'absent' });
  });

  it('has no request-header part without its CA, whatever the lists say', () => {
    expect(
      readClusterAuthentication({ 'requestheader-username-headers': 'not json' }).requestHeader,
    ).toEqual({ kind: 'absent' });
    expect(readClusterAuthentication({ 'requestheader-client-ca-file': '' }).requestHeader).toEqual(
      { kind: 'absent' },
    );
  });

  it.each([
    [
      'a malformed client CA',
      { 'client-ca-file': BROKEN_PEM },
      'clientCA',
      'client-ca-file is not a valid CA bundle: certificate 1 of the bundle cannot be parsed',
    ],
    [
      'a client CA without certificates',
      { 'client-ca-file': 'hello' },
      'clientCA',
      'client-ca-file is not a valid CA bundle: no PEM certificate found',
    ],
    [
      'a malformed front-proxy CA',
      { 'requestheader-client-ca-file': BROKEN_PEM },
      'requestHeader',
      'requestheader-client-ca-file is not a valid CA bundle: certificate 1 of the bundle cannot be parsed',
    ],
    [
      'a list that is not JSON',
      { 'requestheader-allowed-names': "['front-proxy-client']" },
      'requestHeader',
      'requestheader-allowed-names is not JSON (expected an array of strings)',
    ],
    [
      'a list that is not an array of strings',
      { 'requestheader-group-headers': '{"a":1}' },
      'requestHeader',
      'requestheader-group-headers is not a JSON array of strings',
    ],
    [
      'a header name that is not one',
      { 'requestheader-username-headers': '["X Remote User"]' },
      'requestHeader',
      'requestheader-username-headers: not a header name: "X Remote User"',
    ],
    [
      'an empty allowed name',
      { 'requestheader-allowed-names': '[""]' },
      'requestHeader',
      'requestheader-allowed-names: expected an array of non-empty common names (omit it to allow any)',
    ],
  ])('says what is wrong with %s, naming the key', (_case, data, part, problem) => {
    const withCA =
      part === 'requestHeader' ? { 'requestheader-client-ca-file': ca, ...data } : data;
    const config = readClusterAuthentication(withCA as Record<string, string>);
    expect(config[part as 'clientCA' | 'requestHeader']).toEqual({ kind: 'invalid', problem });
  });

  it('never puts the value it could not read in the problem', () => {
    const secretish = 'this-text-must-not-be-echoed';
    const config = readClusterAuthentication({
      'client-ca-file': secretish,
      'requestheader-client-ca-file': ca,
      'requestheader-allowed-names': secretish,
    });
    expect(JSON.stringify(config)).not.toContain(secretish);
  });
});
