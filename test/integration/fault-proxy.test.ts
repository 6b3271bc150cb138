import { randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { s3TestEnv } from '../support/test-services.js';

// The test proxy itself, in front of the real Ceph RGW: it must forward faithfully and fail on demand.
describe('fault proxy (in front of Ceph RGW)', () => {
  let proxy: FaultProxy;
  let bucket: string;

  const clientFor = (maxAttempts = 1): S3Client => {
    const env = s3TestEnv();
    return new S3Client({
      endpoint: proxy.url,
      region: env.region,
      forcePathStyle: true,
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts,
    });
  };

  /** GetObject and read the whole body (a mid-body reset only shows while reading). */
  const getBytes = async (client: S3Client, key: string, range?: string): Promise<Buffer> => {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };

  beforeAll(async () => {
    bucket = await createTestBucket('faultproxy');
    proxy = await startFaultProxy(s3TestEnv().endpoint);
  });

  afterEach(() => {
    proxy.setFaults({});
    proxy.reset();
  });

  afterAll(async () => {
    await proxy?.close();
    if (bucket) await deleteTestBucket(bucket);
  });

  it('forwards uploads, downloads and listings unchanged and counts them', async () => {
    const client = clientFor();
    const big = randomBytes(6 * 1024 * 1024 + 123); // large enough for the SDK's Expect: 100-continue
    const small = Buffer.from('hello through the proxy');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/big.bin', Body: big }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/small key.txt', Body: small }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/third.txt', Body: 'third' }));
    expect(proxy.count((r) => r.method === 'PUT')).toBe(3);
    expect(proxy.requests.every((r) => r.status === 200)).toBe(true);
    proxy.reset();

    expect((await getBytes(client, 'data/big.bin')).equals(big)).toBe(true);
    expect((await getBytes(client, 'data/small key.txt')).equals(small)).toBe(true);
    expect((await getBytes(client, 'data/big.bin', 'bytes=10-19')).equals(big.subarray(10, 20))).toBe(true);
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'data/big.bin' }));

    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client, pageSize: 2 },
      { Bucket: bucket, Prefix: 'data/' },
    )) {
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    }
    expect(keys.sort()).toEqual(['data/big.bin', 'data/small key.txt', 'data/third.txt']);

    expect(proxy.count((r) => r.isObjectGet)).toBe(3);
    expect(proxy.count((r) => r.isObjectGet && r.key === 'data/small key.txt')).toBe(1);
    expect(proxy.requests.filter((r) => r.range !== undefined).map((r) => r.range)).toEqual(['bytes=10-19']);
    expect(proxy.count((r) => r.isList)).toBe(2); // 3 keys, 2 per page
    expect(proxy.count((r) => r.method === 'HEAD' && !r.isObjectGet && !r.isList)).toBe(1);
    expect(proxy.count()).toBe(6);
    expect(proxy.count((r) => r.fault !== undefined)).toBe(0);
  });

  it('answers 503 SlowDown without reaching the server', async () => {
    const client = clientFor();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow.txt', Body: 'slow' }));
    proxy.reset();
    proxy.setFaults({ slowDownRate: 1 });

    const error = await getBytes(client, 'slow.txt').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ServiceException);
    expect((error as S3ServiceException).name).toBe('SlowDown');
    expect((error as S3ServiceException).$metadata.httpStatusCode).toBe(503);
    expect(proxy.requests.map((r) => [r.fault, r.status])).toEqual([['slowdown', 503]]);

    // An upload answered with SlowDown is read but never stored.
    await expect(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: 'never.txt', Body: randomBytes(300_000) })),
    ).rejects.toMatchObject({ name: 'SlowDown' });
    proxy.setFaults({});
    await expect(
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'never.txt' })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('resets connections before the response and mid-body', async () => {
    const client = clientFor();
    const body = randomBytes(256 * 1024);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'reset.bin', Body: body }));
    proxy.reset();
    proxy.setFaults({ resetRate: 1 });

    for (let i = 0; i < 2; i++) {
      const error = await getBytes(client, 'reset.bin').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(S3ServiceException); // a connection error, not an S3 answer
    }
    expect(proxy.requests.map((r) => r.fault)).toEqual(['reset-before', 'reset-mid']);
    expect(proxy.requests.map((r) => r.status)).toEqual([undefined, 200]);

    // Only matching requests are hit.
    proxy.setFaults({ resetRate: 1, match: (r) => r.key === 'other.bin' });
    expect((await getBytes(client, 'reset.bin')).equals(body)).toBe(true);

    // At a partial (seeded) rate, retrying gets through, and every failure was an injected fault.
    proxy.reset();
    proxy.setFaults({ resetRate: 0.5, seed: 7 });
    let failures = 0;
    let got: Buffer | undefined;
    while (got === undefined && failures < 30) {
      got = await getBytes(client, 'reset.bin').catch(() => {
        failures += 1;
        return undefined;
      });
    }
    expect(got?.equals(body)).toBe(true);
    expect(proxy.count((r) => r.fault !== undefined)).toBe(failures);
  });

  it('flips one byte in the middle of matching response bodies, keeping status and length', async () => {
    const client = clientFor();
    const body = randomBytes(64 * 1024 + 3);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'corrupt.bin', Body: body }));
    proxy.setFaults({ corrupt: (r) => r.isObjectGet && r.key === 'corrupt.bin' });

    const got = await getBytes(client, 'corrupt.bin');
    expect(got.length).toBe(body.length);
    const differing = [...got.keys()].filter((i) => got[i] !== body[i]);
    expect(differing).toEqual([Math.floor(body.length / 2)]);
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'corrupted', status: 200 });
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'corrupt.bin' }));
    expect(head.ContentLength).toBe(body.length);
  });

  it('throttles response bodies', async () => {
    const client = clientFor();
    const body = randomBytes(200 * 1024);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'throttle.bin', Body: body }));
    proxy.setFaults({ bytesPerSecond: 400 * 1024 });

    const started = performance.now();
    const got = await getBytes(client, 'throttle.bin');
    const seconds = (performance.now() - started) / 1000;
    expect(got.equals(body)).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(0.4); // 0.5 s at the nominal rate
    expect(seconds).toBeLessThan(20);
  });
});
