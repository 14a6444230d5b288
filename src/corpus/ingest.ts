// Owns ingesting listing pages into the store: read, parse, merge across pages, write in one transaction.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import { parsePage, type PageWarning, type ParsedEntry } from './parse-page.js';
import { mergePaper, samePaperFields, titleKey, type PaperFields } from './merge.js';
import { PaperRow, toFields } from './papers-repo.js';

export interface IngestReport {
  pages: number;
  entries: number;
  added: number;
  updated: number;
  warnings: PageWarning[];
}

interface Pending {
  fields: PaperFields;
  sources: { file: string; line: number; position: number; listedOn: string | null }[];
}

/** Page files under each path: a directory gives its `.txt` files (sorted), a file itself. */
export function listPageFiles(paths: string[], warnings: PageWarning[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      warnings.push({ file: p, line: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(p).filter((f) => f.endsWith('.txt')).sort()) files.push(join(p, f));
    } else files.push(p);
  }
  return files;
}

function entryFields(e: ParsedEntry, listedOn: string | null): PaperFields {
  return {
    title: e.title,
    abstract: e.abstract,
    authors: e.authors,
    publishedOn: e.publishedOn,
    upvotes: e.upvotes,
    firstListedOn: listedOn,
    links: e.links,
  };
}

export function ingestPaths(store: Store, paths: string[], clock: Clock): IngestReport {
  const now = clock.now();
  const report: IngestReport = { pages: 0, entries: 0, added: 0, updated: 0, warnings: [] };
  const pending = new Map<string, Pending>();

  for (const path of listPageFiles(paths, report.warnings)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      report.warnings.push({ file: path, line: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    // Sources are keyed by file name so ingesting `seeds/` or `./seeds/x.txt` is the same page.
    const page = parsePage(bytes, basename(path), now);
    report.pages++;
    report.entries += page.entries.length;
    for (const w of page.warnings) report.warnings.push({ ...w, file: path });
    for (const e of page.entries) {
      const key = titleKey(e.title);
      if (!key) continue;
      const fields = entryFields(e, page.listedOn);
      const source = { file: page.file, line: e.line, position: e.position, listedOn: page.listedOn };
      const seen = pending.get(key);
      if (seen) {
        seen.fields = mergePaper(seen.fields, fields);
        seen.sources.push(source);
      } else pending.set(key, { fields, sources: [source] });
    }
  }

  const { q, db } = store;
  const stamp = now.toISOString();
  const write = db.transaction(() => {
    const maxBefore = (q('max-paper-id').get() as { n: number }).n;
    q('fts-defer').run(1);
    const known = new Map<string, number>();
    for (const r of q('all-paper-keys').iterate() as Iterable<{ id: number; title_key: string }>) known.set(r.title_key, r.id);
    for (const [key, p] of pending) {
      const row = known.has(key) ? q('get-paper-by-key').get(key) : undefined;
      let id: number;
      let changed = false;
      if (!row) {
        const f = p.fields;
        const info = q('insert-paper').run({
          title_key: key,
          title: f.title,
          abstract: f.abstract,
          authors: f.authors,
          published_on: f.publishedOn,
          upvotes: f.upvotes,
          first_listed_on: f.firstListedOn,
          links: JSON.stringify(f.links),
          now: stamp,
        });
        id = Number(info.lastInsertRowid);
        report.added++;
      } else {
        const existing = PaperRow.parse(row);
        id = existing.id;
        const before = toFields(existing);
        const merged = mergePaper(before, p.fields);
        if (!samePaperFields(before, merged)) {
          q('update-paper').run({
            id,
            abstract: merged.abstract,
            authors: merged.authors,
            published_on: merged.publishedOn,
            upvotes: merged.upvotes,
            first_listed_on: merged.firstListedOn,
            links: JSON.stringify(merged.links),
            now: stamp,
          });
          changed = true;
        }
      }
      for (const s of p.sources) {
        // A paper newly seen on a page counts as updated even if no field changed: it gained a source.
        if (q('insert-source').run(id, s.file, s.line, s.position, s.listedOn).changes > 0 && row) changed = true;
      }
      if (changed) report.updated++;
    }
    q('fts-index-new-papers').run(maxBefore);
    q('fts-defer').run(0);
  });
  write.immediate();
  return report;
}

export function formatWarning(w: PageWarning): string {
  return w.line > 0 ? `${w.file}:${w.line}: ${w.message}` : `${w.file}: ${w.message}`;
}
