import { z } from 'zod';
import { generateApiToken } from '../../app/api-tokens.js';
import { NotFoundError } from '../../core/errors.js';
import {
  auditPageSchema,
  createdTokenSchema,
  tokenListSchema,
  usernameListSchema,
  whoAmISchema,
} from '../response-schemas.js';
import { route, type RouteSpec } from '../route.js';
import { nonEmpty, queryInt, username } from './params.js';

export const createTokenRequest = z
  .strictObject({
    name: nonEmpty.max(200).describe('What the token is for, e.g. "laptop" or "ci".'),
    username: username.optional().describe('Whose token (sys-admin only; default: the caller).'),
    expiresInDays: z.number().int().min(1).max(3650).optional().describe('Default: never expires.'),
  })
  .meta({ title: 'CreateTokenRequest' });

const tokenParams = z.strictObject({ tokenId: nonEmpty.max(100) });
const groupParams = z.strictObject({ group: username.describe('A group name.') });
const memberParams = groupParams.extend({ username });
const userParams = z.strictObject({ username });

/** API tokens, the caller's identity, sys-admins, groups and the audit log. */
export const tokenRoutes: RouteSpec[] = [
  route({
    method: 'POST',
    path: '/tokens',
    operationId: 'createToken',
    tag: 'tokens',
    summary: 'Create an API token (for yourself; sys-admins for anyone). The token is shown only here.',
    body: createTokenRequest,
    errors: [403],
    success: {
      status: 201,
      description: '{ token, tokenId, username, name, createdAt, expiresAt }',
      schema: createdTokenSchema,
    },
    handler: async ({ body, principal, auth, ctx }) => {
      const owner = body.username ?? principal!.username;
      if (owner !== principal!.username)
        auth.requireSysAdmin(principal, `creating a token for ${owner}`, owner);
      const generated = generateApiToken();
      const info = await ctx.access.createToken({
        tokenId: generated.tokenId,
        hash: generated.hash,
        username: owner,
        name: body.name,
        expiresAt:
          body.expiresInDays === undefined ? null : new Date(Date.now() + body.expiresInDays * 86_400_000),
      });
      await ctx.catalog.audit({
        actor: principal!.username,
        action: 'token.create',
        target: owner,
        outcome: 'ok',
        details: { tokenId: info.tokenId, name: info.name },
      });
      return { token: generated.token, ...info };
    },
  }),
  route({
    method: 'GET',
    path: '/tokens',
    operationId: 'listTokens',
    tag: 'tokens',
    summary: "Your tokens (never the secrets); sys-admins: anyone's with ?username=, or all",
    query: z.strictObject({ username: username.optional() }),
    errors: [403],
    success: {
      status: 200,
      description: '{ items: [{ tokenId, username, name, createdAt, expiresAt, revokedAt, lastUsedAt }] }',
      schema: tokenListSchema,
    },
    handler: async ({ query, principal, auth, ctx }) => {
      const admin = auth.isSysAdmin(principal);
      const whose = query.username ?? (admin ? undefined : principal!.username);
      if (whose !== principal!.username && !admin) {
        auth.requireSysAdmin(principal, `listing the tokens of ${whose ?? 'everyone'}`);
      }
      return { items: await ctx.access.listTokens(whose) };
    },
  }),
  route({
    method: 'DELETE',
    path: '/tokens/{tokenId}',
    operationId: 'revokeToken',
    tag: 'tokens',
    summary: "Revoke a token (yours; sys-admins: anyone's)",
    params: tokenParams,
    errors: [403, 404],
    success: { status: 204, description: 'Revoked.' },
    handler: async ({ params, principal, auth, ctx }) => {
      const token = await ctx.access.getToken(params.tokenId);
      if (!token || token.revokedAt !== null) throw new NotFoundError(`no active token ${params.tokenId}`);
      if (token.username !== principal!.username && !auth.isSysAdmin(principal)) {
        // Do not reveal whether another user's token id exists.
        throw new NotFoundError(`no active token ${params.tokenId}`);
      }
      await ctx.access.revokeToken(params.tokenId);
      await ctx.catalog.audit({
        actor: principal!.username,
        action: 'token.revoke',
        target: token.username,
        outcome: 'ok',
        details: { tokenId: params.tokenId },
      });
    },
  }),
  route({
    method: 'GET',
    path: '/me',
    operationId: 'whoAmI',
    tag: 'tokens',
    summary: 'The caller: user name, token id, system roles, groups',
    success: {
      status: 200,
      description: '{ username, tokenId, systemRoles, groups, scope? }',
      schema: whoAmISchema,
    },
    handler: async ({ principal }) => principal,
  }),
  ...(['PUT', 'DELETE'] as const).map((method) =>
    route({
      method,
      path: '/users/{username}/sys-admin',
      operationId: method === 'PUT' ? 'grantSysAdmin' : 'revokeSysAdmin',
      tag: 'users',
      summary:
        method === 'PUT' ? 'Make a user a sys-admin (sys-admin)' : 'Take the sys-admin role away (sys-admin)',
      params: userParams,
      errors: [403, 404],
      success: { status: 204, description: 'Done.' },
      handler: async ({ params, principal, auth, ctx }) => {
        auth.requireSysAdmin(principal, 'managing sys-admins', params.username);
        if (method === 'PUT')
          await ctx.access.grantSystemRole(params.username, 'sys-admin', principal!.username);
        else if (!(await ctx.access.revokeSystemRole(params.username, 'sys-admin'))) {
          throw new NotFoundError(`${params.username} is not a sys-admin`);
        }
        await ctx.catalog.audit({
          actor: principal!.username,
          action: method === 'PUT' ? 'role.grant' : 'role.revoke',
          target: params.username,
          outcome: 'ok',
          details: { role: 'sys-admin' },
        });
      },
    }),
  ),
  route({
    method: 'GET',
    path: '/groups/{group}/members',
    operationId: 'listGroupMembers',
    tag: 'users',
    summary: "A group's members (sys-admin)",
    params: groupParams,
    errors: [403],
    success: { status: 200, description: '{ items: [username] }', schema: usernameListSchema },
    handler: async ({ params, principal, auth, ctx }) => {
      auth.requireSysAdmin(principal, 'reading groups');
      return { items: await ctx.access.listGroupMembers(params.group) };
    },
  }),
  ...(['PUT', 'DELETE'] as const).map((method) =>
    route({
      method,
      path: '/groups/{group}/members/{username}',
      operationId: method === 'PUT' ? 'addGroupMember' : 'removeGroupMember',
      tag: 'users',
      summary:
        method === 'PUT' ? 'Add a user to a group (sys-admin)' : 'Remove a user from a group (sys-admin)',
      params: memberParams,
      errors: [403, 404],
      success: { status: 204, description: 'Done.' },
      handler: async ({ params, principal, auth, ctx }) => {
        auth.requireSysAdmin(principal, 'managing groups', params.group);
        if (method === 'PUT') await ctx.access.addGroupMember(params.group, params.username);
        else if (!(await ctx.access.removeGroupMember(params.group, params.username))) {
          throw new NotFoundError(`${params.username} is not in group ${params.group}`);
        }
        await ctx.catalog.audit({
          actor: principal!.username,
          action: method === 'PUT' ? 'group.add' : 'group.remove',
          target: params.group,
          outcome: 'ok',
          details: { username: params.username },
        });
      },
    }),
  ),
  route({
    method: 'GET',
    path: '/audit',
    operationId: 'listAudit',
    tag: 'users',
    summary: 'The audit log, a page at a time (sys-admin)',
    description:
      'Oldest first by default; `order=newest` for the latest first. Page on with the last id of a page: ' +
      '`after=ID` (oldest first) or `before=ID` (newest first). `hasMore` says whether another page exists.',
    query: z.strictObject({
      target: nonEmpty.optional(),
      limit: queryInt(1, 10_000).optional(),
      order: z.enum(['oldest', 'newest']).optional(),
      after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
      before: queryInt(1, Number.MAX_SAFE_INTEGER).optional(),
    }),
    errors: [403],
    success: {
      status: 200,
      description: '{ items: [{ id, at, actor, action, target, outcome, details }], hasMore }',
      schema: auditPageSchema,
    },
    handler: async ({ query, principal, auth, ctx }) => {
      auth.requireSysAdmin(principal, 'reading the audit log');
      const limit = query.limit ?? 1000;
      const items = await ctx.catalog.listAudit({
        ...(query.target !== undefined ? { target: query.target } : {}),
        ...(query.order !== undefined ? { order: query.order } : {}),
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.before !== undefined ? { before: query.before } : {}),
        limit: limit + 1,
      });
      return { items: items.slice(0, limit), hasMore: items.length > limit };
    },
  }),
];
