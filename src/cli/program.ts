import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { registerCat } from './commands/cat.js';
import { registerCp } from './commands/cp.js';
import { registerFetch } from './commands/fetch.js';
import { registerLs } from './commands/ls.js';
import { registerIngest } from './commands/ingest.js';
import { registerPresign } from './commands/presign.js';
import { registerRm } from './commands/rm.js';
import { registerServe } from './commands/serve.js';
import { registerSync } from './commands/sync.js';
import { registerToken } from './commands/token.js';
import { registerLogin } from './commands/login.js';
import { registerDataset } from './commands/dataset.js';
import { registerReview } from './commands/review.js';
import { registerReviewer } from './commands/reviewer.js';
import { registerTable } from './commands/table.js';
import { positiveInt, type RunAction } from './context.js';
import { EXIT_CODES_HELP } from './exit-codes.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The `wharf` command tree; `run` wraps each command's body (cli/main.ts records its exit code). */
export function buildProgram(run: RunAction): Command {
  const program = new Command('wharf')
    .description('Datasets in S3-compatible object storage: copy, list, fetch and share them.')
    .version(version(), '-V, --version')
    .option('--json', 'machine-readable output: one JSON object per line on stdout')
    .option('-q, --quiet', 'print only data and errors')
    .option('-v, --verbose', 'print more about what happens (retries, each object)')
    .option('--no-progress', 'no progress bars (they only show on a terminal anyway)')
    .option(
      '--endpoint-url <url>',
      'S3-compatible endpoint (default: AWS_ENDPOINT_URL, the profile, else AWS)',
    )
    .option('--region <region>', 'AWS region (default: AWS_REGION, the profile, else us-east-1)')
    .option(
      '--profile <name>',
      'named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)',
    )
    .addOption(
      new Option(
        '--max-sockets <n>',
        'most concurrent HTTP connections per S3 endpoint (default 256)',
      ).argParser(positiveInt('--max-sockets')),
    )
    .showHelpAfterError(wantsJson() ? false : '(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      // With --json, commander's own refusals (a bad option value, an unknown option) are JSON too.
      outputError: (text, write) =>
        write(
          wantsJson()
            ? `${JSON.stringify({ error: { code: 'USAGE', message: text.replace(/^error: /, '').trim() } })}\n`
            : `wharf: ${text}`,
        ),
    })
    .addHelpText(
      'after',
      `
Locations:
  s3://BUCKET[/PREFIX]   a bucket on AWS S3 or any S3-compatible server (Ceph, MinIO, R2, ...)
  file:///ABS/DIR        a folder on this machine used as a store
  ./dir, /abs/dir        the same, as a plain path

Credentials and endpoint come from the usual AWS places: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE or --profile (~/.aws/credentials, ~/.aws/config), AWS_ENDPOINT_URL or --endpoint-url,
AWS_REGION or --region, then the SDK's default chain (SSO, container, instance metadata).

${EXIT_CODES_HELP}

Examples:
  wharf ls s3://my-bucket/
  wharf cp -r ./dataset s3://my-bucket/datasets/v1/
  wharf --endpoint-url http://127.0.0.1:7480 ls -r --json s3://my-bucket/datasets/v1/`,
    );
  registerLs(program, run);
  registerCp(program, run);
  registerFetch(program, run);
  registerSync(program, run);
  registerRm(program, run);
  registerCat(program, run);
  registerPresign(program, run);
  registerTable(program, run);
  registerIngest(program, run);
  registerServe(program, run);
  registerToken(program, run);
  registerLogin(program, run);
  registerDataset(program, run);
  registerReview(program, run);
  registerReviewer(program, run);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** `--json` anywhere on the command line (before commander has parsed it, or when parsing failed). */
export function wantsJson(): boolean {
  const end = process.argv.indexOf('--');
  return process.argv.slice(2, end < 0 ? undefined : end).includes('--json');
}
