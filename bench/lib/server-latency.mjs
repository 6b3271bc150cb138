// bench/lib/server-latency.mjs - how long the S3 server takes to answer one small GET, on fresh connections and
// on one kept-alive connection. Every tool in the benchmarks reuses connections, so a server that answers a
// reused connection late (Ceph RGW's default beast frontend sends the headers and the body in two writes
// without TCP_NODELAY: the body waits for the client's delayed ACK, ~40 ms on Linux) slows every tool by that
// much per request, and the tools with few requests in flight the most.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

/** One GET of `url` through `agent`; resolves with its duration in ms once the whole body has arrived. */
function timedGet(url, agent) {
  const get = url.startsWith('https:') ? https.get : http.get;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET answered ${res.statusCode}`));
        return;
      }
      res.on('data', () => undefined);
      res.on('end', () => resolve(performance.now() - t0));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Medians of `count` GETs of s3://bucket/key in a row: each on a new connection, then all on one kept-alive
 * connection (the first of those, which opens it, is not counted).
 * @returns {Promise<{ freshMs: number, reusedMs: number }>}
 */
export async function measureServerLatency(client, bucket, key, count = 20) {
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: 600,
  });
  const Agent = url.startsWith('https:') ? https.Agent : http.Agent;
  const fresh = [];
  for (let i = 0; i < count; i++) {
    const agent = new Agent({ keepAlive: false });
    fresh.push(await timedGet(url, agent));
    agent.destroy();
  }
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const reused = [];
  try {
    await timedGet(url, keepAlive);
    for (let i = 0; i < count; i++) reused.push(await timedGet(url, keepAlive));
  } finally {
    keepAlive.destroy();
  }
  return { freshMs: median(fresh), reusedMs: median(reused) };
}
