// bench/lib/raw-put.mjs - the server's ceiling for many small uploads: a bare AWS SDK loop.
//
//   node bench/lib/raw-put.mjs DIR BUCKET PREFIX [CONCURRENCY]
//
// PUTs every file under DIR (recursively) to s3://BUCKET/PREFIX<relative path> with PutObject,
// CONCURRENCY (default 32) at once over keep-alive connections, each body read whole into memory
// (so the SDK knows its length and sends no aws-chunked encoding). No listing, no retries beyond
// the SDK's, no progress: the least client work a copy can do, so its time is roughly what the
// server (plus Node's startup) needs. Connection settings come from AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

const [dir, bucket, prefix = '', concurrencyArg = '32'] = process.argv.slice(2);
if (!dir || !bucket) {
  process.stderr.write('usage: node bench/lib/raw-put.mjs DIR BUCKET PREFIX [CONCURRENCY]\n');
  process.exit(2);
}
const concurrency = Number.parseInt(concurrencyArg, 10);

const agentOptions = { keepAlive: true, maxSockets: concurrency };
const client = new S3Client({
  endpoint: process.env.AWS_ENDPOINT_URL,
  region: process.env.AWS_REGION ?? 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  requestHandler: new NodeHttpHandler({
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: new https.Agent(agentOptions),
  }),
});

const entries = await readdir(dir, { recursive: true, withFileTypes: true });
const files = entries
  .filter((e) => e.isFile())
  .map((e) => path.join(e.parentPath ?? e.path, e.name))
  .sort();

let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const key = prefix + path.relative(dir, file).split(path.sep).join('/');
    const body = await readFile(file);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
client.destroy();
