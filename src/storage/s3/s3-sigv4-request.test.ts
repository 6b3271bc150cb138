import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  amzDate,
  canonicalQuery,
  encodeKeyPath,
  S3RequestSigner,
  UNSIGNED_PAYLOAD,
} from './s3-sigv4-request.js';
import type { SigV4Target } from './s3-sigv4-request.js';

/** The SDK's signer configured as the S3 client configures it for these requests. */
async function sdkSignature(
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  target: SigV4Target,
  path: string,
  headers: Record<string, string>,
  query: Record<string, string>,
  now: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port !== undefined ? { port: target.port } : {}),
      path,
      query,
      headers: { ...headers, host: target.host, 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
    },
    { signingDate: now },
  );
  return signed.headers;
}

const LOCAL: SigV4Target = { protocol: 'http:', hostname: '127.0.0.1', host: '127.0.0.1:7480', port: 7480 };
const AWS: SigV4Target = {
  protocol: 'https:',
  hostname: 'bkt.s3.eu-west-1.amazonaws.com',
  host: 'bkt.s3.eu-west-1.amazonaws.com',
  port: undefined,
};

describe('S3RequestSigner', () => {
  const cases: {
    name: string;
    target: SigV4Target;
    region: string;
    key: string;
    headers: Record<string, string>;
    query: Record<string, string>;
    sessionToken?: string;
  }[] = [
    {
      name: 'a plain GET',
      target: LOCAL,
      region: 'us-east-1',
      key: '/bkt/data/f00001.bin',
      headers: {},
      query: {},
    },
    {
      name: 'a ranged GET pinned to an ETag',
      target: LOCAL,
      region: 'us-east-1',
      key: '/bkt/big.bin',
      headers: { range: 'bytes=0-8388607', 'if-match': '"0123456789abcdef0123456789abcdef-128"' },
      query: {},
    },
    {
      name: 'a key that needs encoding, on AWS with temporary credentials',
      target: AWS,
      region: 'eu-west-1',
      key: `/${encodeKeyPath("a b/+%/é/🐳/!'()*~._-/x?y#z&=;,")}`,
      headers: { 'If-Match': '  "abc"  ' },
      query: {},
      sessionToken: 'FwoGZXIvYXdzEBYaDH//token+with/slashes==',
    },
    {
      name: 'a listing with every query parameter',
      target: LOCAL,
      region: 'us-east-1',
      key: '/bkt',
      headers: {},
      query: {
        'list-type': '2',
        prefix: 'data/a b+é/',
        delimiter: '/',
        'encoding-type': 'url',
        'continuation-token': '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
        'start-after': "x!'()*~",
      },
    },
  ];

  for (const c of cases) {
    it(`signs ${c.name} exactly as the SDK's SignatureV4`, async () => {
      const credentials = {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      };
      for (const now of [new Date('2026-11-24T14:43:00.123Z'), new Date('2027-01-01T00:00:00Z')]) {
        const ours = await new S3RequestSigner(
          c.region,
          async () => credentials,
          () => 0,
        ).sign('GET', c.target, c.key, c.headers, c.query, now);
        const sdk = await sdkSignature(c.region, credentials, c.target, c.key, c.headers, c.query, now);
        const lower = Object.fromEntries(Object.entries(sdk).map(([k, v]) => [k.toLowerCase(), v]));
        expect(ours['authorization']).toBe(lower['authorization']);
        expect(ours).toMatchObject({
          host: c.target.host,
          'x-amz-date': amzDate(now),
          'x-amz-content-sha256': UNSIGNED_PAYLOAD,
          ...(c.sessionToken ? { 'x-amz-security-token': c.sessionToken } : {}),
        });
      }
    });
  }

  it('takes fixed credentials as well as a provider, and asks the provider every time (it may refresh)', async () => {
    let calls = 0;
    const provider = async () => {
      calls += 1;
      return { accessKeyId: `AK${calls}`, secretAccessKey: `secret${calls}` };
    };
    const signer = new S3RequestSigner('us-east-1', provider, () => 0);
    const first = await signer.sign('GET', LOCAL, '/b/k', {});
    const second = await signer.sign('GET', LOCAL, '/b/k', {});
    expect(first['authorization']).toContain('Credential=AK1/');
    expect(second['authorization']).toContain('Credential=AK2/');
    const fixed = new S3RequestSigner('us-east-1', { accessKeyId: 'AKF', secretAccessKey: 's' }, () => 0);
    expect((await fixed.sign('GET', LOCAL, '/b/k', {}))['authorization']).toContain('Credential=AKF/');
  });

  it('signs with the clock offset applied', async () => {
    const signer = new S3RequestSigner(
      'us-east-1',
      { accessKeyId: 'A', secretAccessKey: 's' },
      () => -3_600_000,
    );
    const headers = await signer.sign('GET', LOCAL, '/b/k', {});
    const signed = Date.parse(
      (headers['x-amz-date'] as string).replace(
        /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
        '$1-$2-$3T$4:$5:$6Z',
      ),
    );
    expect(Math.abs(Date.now() - 3_600_000 - signed)).toBeLessThan(5_000);
  });

  it('puts a query in canonical form: sorted, RFC 3986-encoded names and values', () => {
    expect(canonicalQuery({ prefix: 'a b/é', 'list-type': '2', 'start-after': "(x)*!'" })).toBe(
      'list-type=2&prefix=a%20b%2F%C3%A9&start-after=%28x%29%2A%21%27',
    );
    expect(canonicalQuery({})).toBe('');
  });
});
