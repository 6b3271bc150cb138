// scripts/bundle-vendor.mjs - after tsc: the AWS SDK modules the built code imports become a few ESM chunks
// under dist/vendor/ (esbuild, code splitting so that shared SDK code exists once), and the imports in dist/
// point at them. Loading the SDK from its hundreds of CommonJS files cost ~0.3 s of every S3 command's start
// (file reads, the CommonJS export scan, compiling); the chunks load in about half of that. Types (.d.ts) still
// name the packages; tests run the sources against the packages themselves.
//
//   node scripts/bundle-vendor.mjs [DIST]       (default: dist)
import { build } from 'esbuild';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(REPO, process.argv[2] ?? 'dist');
const VENDOR = path.join(DIST, 'vendor');

/** Every SDK specifier the sources import; a new one must be added here (the build says so). */
const MODULES = {
  '@aws-sdk/client-s3': 'client-s3',
  '@aws-sdk/client-sts': 'client-sts',
  '@aws-sdk/credential-providers': 'credential-providers',
  '@aws-sdk/s3-request-presigner': 's3-request-presigner',
  '@smithy/core/checksum': 'smithy-core-checksum',
  '@smithy/core/retry': 'smithy-core-retry',
  '@smithy/node-http-handler': 'smithy-node-http-handler',
  '@smithy/signature-v4': 'smithy-signature-v4',
};
const SDK_SPECIFIER =
  /(?<=\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(@aws-sdk\/[^'"]+|@smithy\/[^'"]+)\1/g;

async function jsFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== VENDOR) out.push(...(await jsFiles(full)));
    } else if (entry.name.endsWith('.js')) out.push(full);
  }
  return out;
}

await rm(VENDOR, { recursive: true, force: true });
const files = await jsFiles(DIST);
const used = new Set();
const sources = new Map();
for (const file of files) {
  const text = await readFile(file, 'utf8');
  for (const m of text.matchAll(SDK_SPECIFIER)) {
    if (!(m[2] in MODULES)) {
      console.error(
        `bundle-vendor: ${path.relative(REPO, file)} imports ${m[2]}; add it to MODULES in scripts/bundle-vendor.mjs`,
      );
      process.exit(1);
    }
    used.add(m[2]);
    sources.set(file, text);
  }
}

await build({
  absWorkingDir: REPO,
  entryPoints: [...used].map((spec) => ({ in: `vendor-entry:${spec}`, out: MODULES[spec] })),
  outdir: VENDOR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  // Chunks are ESM; a CommonJS dependency inside still calls require().
  banner: {
    js: "import { createRequire as __wharfCreateRequire } from 'node:module'; const require = __wharfCreateRequire(import.meta.url);",
  },
  legalComments: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'vendor-entry',
      setup(b) {
        b.onResolve({ filter: /^vendor-entry:/ }, (args) => ({
          path: args.path.slice('vendor-entry:'.length),
          namespace: 'vendor-entry',
        }));
        b.onLoad({ filter: /.*/, namespace: 'vendor-entry' }, (args) => ({
          contents: `export * from ${JSON.stringify(args.path)};`,
          resolveDir: REPO,
          loader: 'js',
        }));
      },
    },
  ],
});

for (const [file, text] of sources) {
  const rewritten = text.replace(SDK_SPECIFIER, (_all, quote, spec) => {
    let rel = path
      .relative(path.dirname(file), path.join(VENDOR, `${MODULES[spec]}.js`))
      .split(path.sep)
      .join('/');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${quote}${rel}${quote}`;
  });
  await writeFile(file, rewritten);
}
console.error(
  `bundle-vendor: ${used.size} SDK modules -> ${path.relative(REPO, VENDOR)}/, imports rewritten in ${sources.size} files`,
);
