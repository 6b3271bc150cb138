import type pg from 'pg';

/** `pg`, loaded on first use: importing the library (`import … from 'wharf'`) must not load it. */
export async function loadPg(): Promise<typeof pg> {
  return (await import('pg')).default;
}
