import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveS3Options } from './s3-options.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-s3-options-'));
const configFile = join(dir, 'config');
writeFileSync(configFile, '[profile lab]\nregion = ap-south-1\nendpoint_url = http://lab.example:9000/\n');
const noFiles = { AWS_CONFIG_FILE: join(dir, 'missing') };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveS3Options', () => {
  it('defaults to AWS: virtual-hosted, when_supported, us-east-1, the default chain', async () => {
    const r = await resolveS3Options({ bucket: 'my-bucket' }, noFiles);
    expect(r).toMatchObject({
      endpoint: undefined,
      isAws: true,
      region: 'us-east-1',
      forcePathStyle: false,
      maxSockets: 256,
      maxAttempts: 3,
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
      endpointLabel: 'AWS S3 (us-east-1)',
    });
    expect(r.credentialSource).toMatch(/default AWS credential chain/);
  });

  it('takes a custom endpoint from AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL: path-style, when_required', async () => {
    const r = await resolveS3Options(
      { bucket: 'my-bucket' },
      {
        ...noFiles,
        AWS_ENDPOINT_URL: 'http://a:1',
        AWS_ENDPOINT_URL_S3: 'http://b:2/',
        AWS_DEFAULT_REGION: 'eu-west-2',
      },
    );
    expect(r).toMatchObject({
      endpoint: 'http://b:2',
      endpointSource: 'AWS_ENDPOINT_URL_S3',
      isAws: false,
      forcePathStyle: true,
      region: 'eu-west-2',
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });

  it('respects explicit options and the checksum env var', async () => {
    const r = await resolveS3Options(
      {
        bucket: 'my-bucket',
        endpoint: 'https://s3.eu-west-1.amazonaws.com',
        forcePathStyle: true,
        maxSockets: 8,
      },
      { ...noFiles, AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required' },
    );
    expect(r).toMatchObject({
      isAws: true,
      forcePathStyle: true,
      maxSockets: 8,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const o = await resolveS3Options(
      { bucket: 'my-bucket', endpoint: 'http://x:1', checksumMode: 'when_supported' },
      noFiles,
    );
    expect(o.requestChecksumCalculation).toBe('WHEN_SUPPORTED');
    expect(o.responseChecksumValidation).toBe('WHEN_SUPPORTED');
  });

  it('reads region and endpoint of the chosen profile from the shared config file', async () => {
    const r = await resolveS3Options(
      { bucket: 'my-bucket', profile: 'lab' },
      { AWS_CONFIG_FILE: configFile },
    );
    expect(r).toMatchObject({
      region: 'ap-south-1',
      endpoint: 'http://lab.example:9000',
      profile: 'lab',
      forcePathStyle: true,
    });
    expect(r.credentialSource).toMatch(/profile "lab" \(from --profile\)/);
    const viaEnv = await resolveS3Options(
      { bucket: 'my-bucket' },
      { AWS_CONFIG_FILE: configFile, AWS_PROFILE: 'lab' },
    );
    expect(viaEnv.region).toBe('ap-south-1');
    expect(viaEnv.profile).toBeUndefined();
    expect(viaEnv.credentialSource).toMatch(/from AWS_PROFILE/);
  });

  it('describes env credentials without printing the whole key id', async () => {
    const r = await resolveS3Options(
      { bucket: 'my-bucket' },
      { ...noFiles, AWS_ACCESS_KEY_ID: 'AKIAABCDEFGHWXYZ', AWS_SECRET_ACCESS_KEY: 's' },
    );
    expect(r.credentialSource).toBe(
      'environment variables AWS_ACCESS_KEY_ID (AKIA…WXYZ)/AWS_SECRET_ACCESS_KEY',
    );
  });

  it('refuses bad values with UsageError', async () => {
    for (const bad of [
      { bucket: 'ab' },
      { bucket: 'my-bucket', endpoint: 'ftp://x' },
      { bucket: 'my-bucket', endpoint: 'not a url' },
      { bucket: 'my-bucket', maxSockets: 0 },
      { bucket: 'my-bucket', maxAttempts: 1.5 },
      { bucket: 'my-bucket', checksumMode: 'sometimes' as 'when_required' },
    ]) {
      await expect(resolveS3Options(bad, noFiles)).rejects.toMatchObject({ code: 'USAGE' });
    }
    await expect(
      resolveS3Options({ bucket: 'my-bucket' }, { ...noFiles, AWS_REQUEST_CHECKSUM_CALCULATION: 'nope' }),
    ).rejects.toThrow(/AWS_REQUEST_CHECKSUM_CALCULATION/);
  });
});
