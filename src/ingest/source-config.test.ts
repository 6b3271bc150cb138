import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsSecretsManager, signRequest } from './secrets-manager.js';
import { fromSecretJson, resolveSource } from './source-config.js';

const RDS = JSON.stringify({
  engine: 'postgres',
  host: 'db.example',
  port: 5433,
  username: 'etl',
  password: 's3cr:t@/',
  dbname: 'shop',
});

describe('source config', () => {
  it('reads RDS-style secret JSON', () => {
    expect(fromSecretJson(RDS, 'x')).toEqual({
      host: 'db.example',
      port: 5433,
      user: 'etl',
      password: 's3cr:t@/',
      database: 'shop',
    });
    expect(() => fromSecretJson('{"host":"h"}', 'the secret')).toThrow(/lacks username/);
    expect(() => fromSecretJson('nope', 'the secret')).toThrow(/not JSON/);
  });

  it('takes a URL, a file (URL or JSON), PG* env by default, and refuses two sources at once', async () => {
    expect(await resolveSource({})).toEqual({});
    expect(await resolveSource({ url: 'postgres://u:p@h/db' })).toEqual({
      connectionString: 'postgres://u:p@h/db',
    });
    await expect(resolveSource({ url: 'mysql://h' })).rejects.toThrow(/postgres:\/\//);
    await expect(resolveSource({ url: 'postgres://u:p@h:notaport/db' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/not a valid URL/) as unknown,
    });
    await expect(resolveSource({ url: 'postgres://h', secret: 'x' })).rejects.toThrow(/one of/);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-src-'));
    try {
      await writeFile(join(dir, 'url'), 'postgres://u:p@h/db\n');
      await writeFile(join(dir, 'json'), RDS);
      expect(await resolveSource({ file: join(dir, 'url') })).toEqual({
        connectionString: 'postgres://u:p@h/db',
      });
      expect((await resolveSource({ file: join(dir, 'json') })).host).toBe('db.example');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fetches --source-secret from Secrets Manager (a local stand-in: no real AWS here) with a SigV4 request', async () => {
    const seen: { target?: string; auth?: string; body?: string } = {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.target = String(req.headers['x-amz-target']);
        seen.auth = String(req.headers.authorization);
        seen.body = body;
        const id = (JSON.parse(body) as { SecretId: string }).SecretId;
        if (id !== 'prod/shop') {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ Name: id, SecretString: RDS }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const secrets = awsSecretsManager({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' },
      });
      const config = await resolveSource({ secret: 'prod/shop', secrets });
      expect(config).toMatchObject({ host: 'db.example', user: 'etl', database: 'shop' });
      expect(seen.target).toBe('secretsmanager.GetSecretValue');
      expect(seen.auth).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
      );
      const missing = resolveSource({ secret: 'nope', secrets });
      await expect(missing).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(missing).rejects.not.toThrow(/s3cr/);
    } finally {
      server.close();
    }
  });

  it('an unreachable Secrets Manager: names the endpoint, the secret and why, and says what to do instead', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const secrets = awsSecretsManager({
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' },
    });
    await expect(resolveSource({ secret: 'prod/shop', secrets })).rejects.toMatchObject({
      code: 'NETWORK',
      message: `cannot reach Secrets Manager at http://127.0.0.1:${port} to read secret "prod/shop" (ECONNREFUSED)`,
      hint: expect.stringContaining('--source or --source-file instead') as unknown,
    });
  });

  it('signs like AWS Signature V4 (stable for the same input)', () => {
    const input = {
      url: new URL('https://secretsmanager.us-east-1.amazonaws.com/'),
      region: 'us-east-1',
      body: '{"SecretId":"x"}',
      credentials: { accessKeyId: 'A', secretAccessKey: 'B', sessionToken: 'T' },
      target: 'secretsmanager.GetSecretValue',
      now: new Date('2024-01-02T03:04:05Z'),
    };
    const a = signRequest(input);
    expect(a['x-amz-date']).toBe('20240102T030405Z');
    expect(a['x-amz-security-token']).toBe('T');
    expect(a.authorization).toContain(
      'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target',
    );
    expect(signRequest(input).authorization).toBe(a.authorization);
  });
});
