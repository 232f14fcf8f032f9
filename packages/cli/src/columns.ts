import stringWidth from 'string-width';

/**
 * Terminal columns `text` takes: East Asian wide and fullwidth characters (模型, ～) and
 * most emoji count 2, combining marks 0 (string-width, Unicode UAX #11), so names in
 * any script line up in the CLI's tables.
 */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` followed by spaces up to `width` terminal columns. */
export function padDisplay(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** Rows as aligned columns two spaces apart, one line each (the last column unpadded, trailing spaces trimmed), ending in a newline; '' for no rows. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column] ?? ''))));
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : padDisplay(cell, widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
