// Defaults of `wharf serve`, in a module of their own so that its help does not load the config resolver.

export const DATASTORE_DEFAULTS = {
  dataDir: '.wharf-data',
  port: 8080,
  host: '127.0.0.1',
  idPrefix: '10378.1',
  responseCacheMb: 32,
} as const;

/** Scopes the web UI asks the identity provider for when --oidc-scopes is not set. */
export const OIDC_DEFAULT_SCOPES = 'openid profile';
