// Owns CSV in and out for subscriber lists (RFC 4180: quoted fields, doubled quotes, CRLF, LF or CR).
import { lazyRequire } from '../lazy-require.js';

const csvParse = lazyRequire<typeof import('csv-parse/sync')>('csv-parse/sync');

/** A file the parser cannot read to the end: `line` is where it stops making sense, so nothing is dropped unseen. */
export class CsvFormatError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}; nothing was imported, fix the file and import it again`);
  }
}

const DETAIL: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field starts on this line and is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'text follows a closing quote (a quote inside a quoted field is written "")',
  INVALID_OPENING_QUOTE: 'a quote in the middle of an unquoted field (quote the whole field and double the quote)',
};

/** Counts line breaks (CRLF, LF or a lone CR) up to a byte offset; offsets must only grow. */
function lineCounter(buf: Buffer) {
  let pos = 0;
  let line = 1;
  return (offset: number): number => {
    // Blank lines are skipped by the parser: a record starts at the first byte that is not a line break.
    while (offset < buf.length && (buf[offset] === 0x0a || buf[offset] === 0x0d)) offset++;
    for (; pos < offset; pos++) {
      const b = buf[pos];
      if (b === 0x0a || (b === 0x0d && buf[pos + 1] !== 0x0a)) line++;
    }
    return line;
  };
}

/** Records with the 1-based line each starts on; a BOM and blank lines are ignored. Throws CsvFormatError. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lineAt = lineCounter(Buffer.from(body, 'utf8'));
  const out: { line: number; cells: string[] }[] = [];
  // csv-parse says how many bytes it has read after each record (its own line count is off for CRLF inside quotes),
  // so a record starts where the previous one ended.
  let prevEnd = 0;
  try {
    csvParse().parse(body, {
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      on_record: (cells: string[], ctx) => {
        const line = lineAt(prevEnd);
        prevEnd = ctx.bytes;
        if (!(cells.length === 1 && cells[0]!.trim() === '')) out.push({ line, cells });
        return null;
      },
    });
  } catch (err) {
    if (!(err instanceof csvParse().CsvError)) throw err;
    // The record that fails starts after the last good one (an unclosed quote is only noticed at the end of the file).
    throw new CsvFormatError(lineAt(prevEnd), DETAIL[err.code] ?? err.message);
  }
  return out;
}

// What a spreadsheet would run as a formula when it starts a cell (OWASP "CSV injection"): a subscriber chooses their
// topics and, within RFC 5321, their address (`=1+2@example.org` is one), and admins open exports in spreadsheets.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One exported cell: quoted when it must be, and a would-be formula behind an apostrophe, which spreadsheets show as text. */
export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: (string | number | null | undefined)[]): string {
  return values.map(csvCell).join(',') + '\r\n';
}

/** An imported cell as it was before csvCell guarded it: the apostrophe goes when a would-be formula follows, so exports round-trip. */
export function unguardCell(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}
