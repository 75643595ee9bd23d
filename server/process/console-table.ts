/** Text tables for the console: columns padded to their widest cell in terminal columns (CJK counts 2). */
import { columns } from '../../common/terminal/layout.js';

/** Rows of cells, left-aligned, two spaces between columns, no trailing spaces. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, columns(cell))));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - columns(cell) + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}
