// Owns the CLI's plain-text tables: fixed-width columns, long values cut with an ellipsis.
export function pad(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n);
}
