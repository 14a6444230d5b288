// Owns reading the listing pages' dates (`Jun 12, 2025`, `Apr 28`) into ISO dates.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export const DATE_LINE = /^([A-Z][a-z]{2})\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d+))?$/;

// Listing pages repeat a few hundred dates over and over: each is checked and formatted once.
const isoSeen = new Map<number, string | null>();

function iso(y: number, m: number, d: number): string | null {
  const k = y * 10_000 + m * 100 + d;
  let v = isoSeen.get(k);
  if (v === undefined) {
    v = isoUncached(y, m, d);
    if (isoSeen.size < 100_000) isoSeen.set(k, v);
  }
  return v;
}

function isoUncached(y: number, m: number, d: number): string | null {
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return dt.toISOString().slice(0, 10);
}

/**
 * A `Mon D[, YYYY][ votes]` line. Without a year the page means the current one; a date that would then lie
 * more than two days ahead of `now` can only be last year's (a listing is never from the future).
 */
export function parseDateLine(line: string, now: Date): { date: string; upvotes: number | null } | null {
  const m = DATE_LINE.exec(line.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
  if (month === 0) return null;
  const day = Number(m[2]);
  let year = m[3] ? Number(m[3]) : now.getUTCFullYear();
  let date = iso(year, month, day);
  if (date && !m[3] && Date.parse(date) > now.getTime() + 2 * 86_400_000) {
    year -= 1;
    date = iso(year, month, day);
  }
  if (!date) return null;
  return { date, upvotes: m[4] !== undefined ? Number(m[4]) : null };
}
