import { z } from 'zod';
import type { OidcBrowserOptions } from '../../datastore/access/oidc.js';
import { route, type RouteSpec } from '../route.js';

export const authConfigSchema = z
  .strictObject({
    oidc: z
      .strictObject({
        clientId: z
          .string()
          .describe('Public client id (no secret): authorization code flow with PKCE S256.'),
        authorizationUrl: z.string().describe("The identity provider's authorization endpoint."),
        tokenUrl: z.string().describe("The identity provider's token endpoint (called from the browser)."),
        scopes: z.string().describe('Space-separated scopes to ask for.'),
      })
      .nullable()
      .describe('Browser sign-in through the identity provider; null: API tokens only.'),
  })
  .meta({ title: 'AuthConfig' });

/**
 * `GET /auth/config`: how a browser signs in. Public: the web UI asks before anyone is signed in. Only what
 * a public client needs (no secrets: the client is public and the service holds no client secret).
 */
export function authConfigRoutes(browser: OidcBrowserOptions | undefined): RouteSpec[] {
  const body: z.output<typeof authConfigSchema> = {
    oidc: browser
      ? {
          clientId: browser.clientId,
          authorizationUrl: browser.authorizationUrl,
          tokenUrl: browser.tokenUrl,
          scopes: browser.scopes,
        }
      : null,
  };
  return [
    route({
      method: 'GET',
      path: '/auth/config',
      operationId: 'getAuthConfig',
      tag: 'tokens',
      summary: 'How the web UI signs in: API tokens, plus OIDC single sign-on when configured',
      description:
        'Public. `oidc` is set when `wharf serve` has --oidc-jwks-url, --oidc-client-id, ' +
        '--oidc-authorization-url and --oidc-token-url: the browser runs the authorization code flow with PKCE ' +
        'against the provider and sends the ID token (or access token) it gets as the bearer token.',
      auth: 'optional',
      success: {
        status: 200,
        description: '{ oidc: null } or { oidc: { clientId, … } }',
        schema: authConfigSchema,
      },
      handler: async ({ reply }) => {
        reply.header('cache-control', 'no-cache');
        return body;
      },
    }),
  ];
}
