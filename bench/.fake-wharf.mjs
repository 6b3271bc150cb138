// temporary: stands in for dist/cli/main.js while it does not exist
const a = process.argv.slice(2);
const [src, dst] = a.slice(-2);
const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(dst);
process.argv = [process.argv[0], 'raw-put', src, m[1], m[2], '32'];
await import('./lib/raw-put.mjs');
