/**
 * `message` prefixed with `table: ` unless it already names the table, as typed or JSON-quoted as Wharf's
 * messages quote names (`table "public.x\"y" not found`), so no line names it twice.
 */
export function messageNamingTable(table: string, message: string): string {
  const named = message.includes(table) || message.includes(JSON.stringify(table).slice(1, -1));
  return named ? message : `${table}: ${message}`;
}
