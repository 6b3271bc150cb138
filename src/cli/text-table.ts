/** Plain-text tables for the CLI's human output. */

// C0 controls, DEL and C1 controls: a terminal acts on them (ESC and CSI start escape sequences).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// The same but tab and newline, for messages whose lines are the program's own.
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const escaped = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** `text` with every control character shown as `\xNN`: for one value (a name, a path) on a terminal. */
export function visible(text: string): string {
  return text.replace(CONTROL, escaped);
}

/** `text` with control characters but tab and newline shown as `\xNN`: for a message of several lines. */
export function visibleLines(text: string): string {
  return text.replace(CONTROL_BUT_LINES, escaped);
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function renderTable(header: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map(visible));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One line of text, at most `width` characters. */
export function clip(text: string, width: number): string {
  const flat = visible(text.replace(/\s+/g, ' ').trim());
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}
