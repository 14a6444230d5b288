// Migration 062: direction controls stored before ingest and fetch stripped them leave titles, abstracts and author
// names, and the search index is rebuilt with the clean text.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore } from '../src/db/open.js';
import { tempDir } from './helpers/tmp.js';

describe('migration 062: stored bidi controls', () => {
  it('strips them from every stored text of a paper and rebuilds the index', () => {
    const file = join(tempDir(), 'old.db');
    const store = openStore(file);
    // An install from before the fix: the row as the old ingest stored it, and 062 not applied yet.
    store.db
      .prepare(
        `INSERT INTO papers (title_key, title, abstract, authors, first_seen_at, updated_at, author_names, tldr, organization)
         VALUES ('spoof', ?, ?, 1, '2026-01-01', '2026-01-01', ?, ?, ?)`,
      )
      .run('Safe \u202Egnp.exe\u202C title', 'An abstract \u2066isolated\u2069 here', '["Ada \u200FLovelace"]', 'tl\u061Cdr', 'Org\u202A');
    store.db
      .prepare('INSERT INTO papers (title_key, title, abstract, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run('plain', 'Plain title', 'Plain abstract', '2026-01-01', '2026-01-01');
    store.db.exec('DELETE FROM schema_migrations WHERE version = 62');
    store.close();

    const reopened = openStore(file);
    const row = reopened.db.prepare("SELECT title, abstract, author_names, tldr, organization FROM papers WHERE title_key = 'spoof'").get();
    expect(row).toEqual({
      title: 'Safe gnp.exe title',
      abstract: 'An abstract isolated here',
      author_names: '["Ada Lovelace"]',
      tldr: 'tldr',
      organization: 'Org',
    });
    expect(reopened.db.prepare("SELECT title FROM papers WHERE title_key = 'plain'").pluck().get()).toBe('Plain title');
    // The open saw the generations differ and rebuilt the index from the clean rows.
    expect(reopened.search.rebuilt).toBe(true);
    expect(reopened.db.prepare("SELECT rowid FROM search.papers_fts WHERE papers_fts MATCH 'gnp'").pluck().all()).toHaveLength(1);
    reopened.close();
  });
});
