import { organisationInputSchema, personInputSchema } from '../../datastore/model/dataset.js';
import { registryEntryListSchema, registryEntrySchema } from '../response-schemas.js';
import { route, type RouteSpec } from '../route.js';
import { handleId, handleParams } from './params.js';

/** Organisations and people that dataset metadata refers to. Any authenticated user may read and add them. */
export const registryRoutes: RouteSpec[] = [
  route({
    method: 'POST',
    path: '/organisations',
    operationId: 'registerOrganisation',
    tag: 'registry',
    summary: 'Register an organisation',
    body: organisationInputSchema,
    success: { status: 201, description: 'The registry entry with its new id.', schema: registryEntrySchema },
    handler: ({ body, principal, ctx }) =>
      ctx.service.registerOrganisation(body, { actor: principal!.username }),
  }),
  route({
    method: 'GET',
    path: '/organisations',
    operationId: 'listOrganisations',
    tag: 'registry',
    summary: 'Every organisation, by name',
    success: { status: 200, description: '{ items }', schema: registryEntryListSchema },
    handler: async ({ ctx }) => ({ items: await ctx.service.listRegistryEntries('organisation') }),
  }),
  route({
    method: 'POST',
    path: '/people',
    operationId: 'registerPerson',
    tag: 'registry',
    summary: 'Register a person',
    body: personInputSchema,
    success: { status: 201, description: 'The registry entry with its new id.', schema: registryEntrySchema },
    handler: ({ body, principal, ctx }) => ctx.service.registerPerson(body, { actor: principal!.username }),
  }),
  route({
    method: 'GET',
    path: '/people',
    operationId: 'listPeople',
    tag: 'registry',
    summary: 'Every person, by name',
    success: { status: 200, description: '{ items }', schema: registryEntryListSchema },
    handler: async ({ ctx }) => ({ items: await ctx.service.listRegistryEntries('person') }),
  }),
  route({
    method: 'GET',
    path: '/registry/{prefix}/{number}',
    operationId: 'fetchRegistryEntry',
    tag: 'registry',
    summary: 'One organisation or person by id',
    params: handleParams,
    errors: [404],
    success: { status: 200, description: 'The registry entry.', schema: registryEntrySchema },
    handler: ({ params, ctx }) => ctx.service.fetchRegistryEntry(handleId(params)),
  }),
];
