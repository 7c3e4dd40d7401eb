/**
 * The CSV side of `deno task cluster`: parsing (RFC 4180), the table with its header (given or
 * generated `c0, c1, …`), and the numeric feature matrix, each bad cell named by line and
 * column.
 *
 * @module
 */
import type { RectMatrix } from "../../lib/core/rect_matrix.ts";

/**
 * Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF). Blank lines are skipped.
 *
 * @param text The file's text.
 * @returns Rows of cells.
 * @throws {SyntaxError} On an unterminated quote (naming the line).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = "", quoted = false, line = 1, startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === "") {
      quoted = true;
      startLine = line;
    } else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
      cell = "";
      line++;
    } else cell += ch;
  }
  if (quoted) throw new SyntaxError(`Unterminated quoted field starting on line ${startLine}`);
  row.push(cell);
  if (row.length > 1 || row[0] !== "") rows.push(row);
  return rows;
}

/** A CSV table with its header (given or generated `c0, c1, …`). */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly hasHeader: boolean;
}

const isNumber = (s: string) => s.trim() !== "" && Number.isFinite(Number(s));

/**
 * A table from parsed CSV: the first row is a header when one of its cells is not a number.
 *
 * @param cells Parsed rows.
 * @param path File name for messages.
 * @returns The table.
 * @throws {RangeError} If the file is empty or rows have different lengths.
 */
export function toTable(cells: readonly string[][], path: string): Table {
  if (cells.length === 0) throw new RangeError(`${path} is empty`);
  const hasHeader = cells[0]!.some((c) => !isNumber(c));
  const width = cells[0]!.length;
  const header = hasHeader ? cells[0]!.map((c) => c.trim()) : cells[0]!.map((_, j) => `c${j}`);
  const rows = hasHeader ? cells.slice(1) : cells;
  rows.forEach((r, i) => {
    if (r.length !== width) {
      throw new RangeError(
        `${path} line ${
          i + 1 + (hasHeader ? 1 : 0)
        } has ${r.length} fields, the first line ${width}`,
      );
    }
  });
  return { header, rows, hasHeader };
}

/**
 * The numeric columns `names` of a table as an n × d matrix (row-major).
 *
 * @param table The table.
 * @param names Feature column names.
 * @param path File name for messages.
 * @returns The n × d coordinates.
 * @throws {RangeError} On a missing column (listing the table's columns), no data row, or a cell
 * that is not a number (naming its line and column).
 */
export function featureMatrix(
  table: Table,
  names: readonly string[],
  path: string,
): RectMatrix {
  const idx = names.map((name) => columnIndex(table, name, path));
  const n = table.rows.length, d = idx.length;
  if (d === 0) throw new RangeError(`${path}: no feature column left`);
  if (n < 1) throw new RangeError(`${path} has no data rows`);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = table.rows[i]!;
    for (let t = 0; t < d; t++) {
      const cell = r[idx[t]!]!;
      if (!isNumber(cell)) {
        throw new RangeError(
          `${path} line ${i + 1 + (table.hasHeader ? 1 : 0)}, column ${table.header[idx[t]!]}: ${
            JSON.stringify(cell)
          } is not a number (features must be numeric: pick them with --columns, or name a ` +
            `label column with --labels-column)`,
        );
      }
      data[i * d + t] = Number(cell);
    }
  }
  return { rows: n, cols: d, data };
}

/**
 * The index of a named column.
 *
 * @param table The table.
 * @param name Column name.
 * @param path File name for messages.
 * @returns Its index.
 * @throws {RangeError} If the table has no such column (listing its columns).
 */
export function columnIndex(table: Table, name: string, path: string): number {
  const j = table.header.indexOf(name);
  if (j < 0) {
    throw new RangeError(
      `${path} has no column ${JSON.stringify(name)} (columns: ${table.header.join(", ")})`,
    );
  }
  return j;
}
