/**
 * Why JSON.parse refused a text, on one line. Node quotes the text around the fault as it is, so a file's
 * newlines would split the one-line error message; they are shown escaped, as in a JSON string.
 */
export function jsonSyntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
