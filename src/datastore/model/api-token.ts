/** An API token as the service shows it (`GET /tokens`): never the secret, which only its creation answer holds. */
export interface ApiTokenInfo {
  tokenId: string;
  username: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}
