import { Option, type Command } from 'commander';
import { DATASTORE_DEFAULTS, OIDC_DEFAULT_SCOPES } from '../../app/datastore-defaults.js';
import { UsageError } from '../../core/errors.js';
import type { CommandContext, RunAction } from '../context.js';

export interface ServeFlags {
  dataDir?: string;
  store?: string;
  database?: string;
  port: number;
  host: string;
  idPrefix: string;
  stsRoleArn?: string;
  stsEndpoint?: string;
  oidcJwksUrl?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  oidcUsernameClaim?: string;
  oidcGroupsClaim?: string;
  oidcClientId?: string;
  oidcAuthorizationUrl?: string;
  oidcTokenUrl?: string;
  oidcScopes?: string;
  responseCacheMb: number;
  exitWithParent?: boolean;
}

const megabytes = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 65536)
    throw new UsageError(`--response-cache-mb must be 0-65536, got ${JSON.stringify(value)}`);
  return n;
};

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port must be 0-65535, got ${JSON.stringify(value)}`);
  return n;
};

export function registerServe(program: Command, run: RunAction): void {
  program
    .command('serve')
    .description('run the datastore service (dataset registry HTTP API) until Ctrl-C / SIGTERM')
    .option(
      '--data-dir <dir>',
      `folder for the embedded defaults (store/ and postgres/)`,
      DATASTORE_DEFAULTS.dataDir,
    )
    .option(
      '--store <url>',
      'where dataset folders go: s3://BUCKET/PREFIX or a folder (default: DATA_DIR/store)',
    )
    .option(
      '--database <url>',
      'catalog database postgres://USER:PASSWORD@HOST:PORT/DB (default: an embedded PostgreSQL in DATA_DIR/postgres)',
    )
    .addOption(
      new Option('--port <n>', 'TCP port (0: any free port)')
        .default(DATASTORE_DEFAULTS.port)
        .argParser(port),
    )
    .option('--host <host>', 'interface to listen on', DATASTORE_DEFAULTS.host)
    .option('--id-prefix <prefix>', 'PREFIX of minted ids PREFIX/N', DATASTORE_DEFAULTS.idPrefix)
    .option(
      '--sts-role-arn <arn>',
      'S3 store: role that scoped credentials assume (STS AssumeRole + session policy) [env WHARF_STS_ROLE_ARN]',
    )
    .option('--sts-endpoint <url>', 'STS endpoint (default: the S3 endpoint) [env WHARF_STS_ENDPOINT]')
    .option('--oidc-jwks-url <url>', 'accept OIDC JWTs signed by keys of this JWKS [env WHARF_OIDC_JWKS_URL]')
    .option('--oidc-issuer <iss>', 'required iss of OIDC tokens [env WHARF_OIDC_ISSUER]')
    .option('--oidc-audience <aud>', 'required aud of OIDC tokens [env WHARF_OIDC_AUDIENCE]')
    .option(
      '--oidc-username-claim <claim>',
      'claim with the user name (default preferred_username, then sub) [env WHARF_OIDC_USERNAME_CLAIM]',
    )
    .option(
      '--oidc-groups-claim <claim>',
      'claim with the groups (default groups) [env WHARF_OIDC_GROUPS_CLAIM]',
    )
    .option(
      '--oidc-client-id <id>',
      'web UI sign-in: public client id (no secret; PKCE) [env WHARF_OIDC_CLIENT_ID]',
    )
    .option(
      '--oidc-authorization-url <url>',
      "web UI sign-in: the provider's authorization endpoint [env WHARF_OIDC_AUTHORIZATION_URL]",
    )
    .option(
      '--oidc-token-url <url>',
      "web UI sign-in: the provider's token endpoint (must allow CORS) [env WHARF_OIDC_TOKEN_URL]",
    )
    .option(
      '--oidc-scopes <scopes>',
      `web UI sign-in: scopes to ask for (default "${OIDC_DEFAULT_SCOPES}") [env WHARF_OIDC_SCOPES]`,
    )
    .addOption(
      new Option(
        '--response-cache-mb <n>',
        'memory for cached list and search answers, kept until the catalog changes (0: off)',
      )
        .default(DATASTORE_DEFAULTS.responseCacheMb)
        .argParser(megabytes),
    )
    .option(
      '--exit-with-parent',
      'stop (cleanly) when the process that started this one exits: `npm start` uses it, since npm does not pass SIGTERM on',
    )
    .addHelpText(
      'after',
      `
With no options everything lives under ./.wharf-data: dataset folders in .wharf-data/store and the catalog in an
embedded PostgreSQL in .wharf-data/postgres, started and stopped by Wharf. The first start prints an admin API
token once (on stderr); set WHARF_ADMIN_TOKEN to fix it instead (scripted setups). API docs: http://HOST:PORT/docs

Examples:
  wharf serve
  wharf serve --port 9000 --data-dir /srv/wharf
  wharf serve --database postgres://wharf:secret@db:5432/wharf --store s3://datasets/registry/
  wharf serve --store s3://datasets/registry/ --sts-role-arn arn:aws:iam::123456789012:role/wharf-datasets
  wharf serve --oidc-jwks-url https://idp.example.org/certs --oidc-issuer https://idp.example.org --oidc-audience wharf
  wharf serve --oidc-jwks-url https://idp.example.org/certs --oidc-audience wharf-web --oidc-client-id wharf-web \\
    --oidc-authorization-url https://idp.example.org/auth --oidc-token-url https://idp.example.org/token`,
    )
    .action(
      run(async (ctx: CommandContext, flags: ServeFlags) => {
        const { serve } = await import('./serve-run.js');
        return serve(ctx, flags);
      }),
    );
}
