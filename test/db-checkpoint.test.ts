import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/db/open.js';
import { checkpointInBackground, suspendAutoCheckpoint } from '../src/db/checkpoint.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { FakeClock } from '../src/clock.js';
import { generateCorpus } from '../bench/corpus-gen.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const clock = new FakeClock(new Date('2026-11-23T12:00:00Z'));
/** What a checkpoint would still have to copy: frames in the log not yet in the database file. */
const behind = (db: ReturnType<typeof openStore>['db'], schema = 'main') => {
  const [r] = db.pragma(`${schema}.wal_checkpoint(NOOP)`) as { log: number; checkpointed: number }[];
  return r!.log - r!.checkpointed;
};

describe('WAL checkpoint on a worker thread', () => {
  it('copies the log into the database file from its own connection, while this one stays open', async () => {
    const store = openStore(join(dir, 'cp.db'));
    store.db.pragma('wal_autocheckpoint = 0');
    const ins = store.db.prepare("INSERT INTO papers (title_key, title, abstract, first_seen_at, updated_at) VALUES (?, ?, ?, 'now', 'now')");
    store.db.transaction(() => {
      for (let i = 0; i < 2000; i++) ins.run(`k${i}`, `Title ${i}`, 'an abstract '.repeat(40));
    })();
    const before = behind(store.db);
    expect(before).toBeGreaterThan(100);
    const sizeBefore = statSync(join(dir, 'cp.db')).size;
    expect(await checkpointInBackground(join(dir, 'cp.db'))).toBeGreaterThanOrEqual(before);
    expect(behind(store.db)).toBe(0);
    expect(statSync(join(dir, 'cp.db')).size).toBeGreaterThan(sizeBefore);
    expect(store.db.prepare('SELECT count(*) AS n FROM papers').get()).toEqual({ n: 2000 });
    store.close();
  });

  it('rejects with the reason when the database is not there', async () => {
    await expect(checkpointInBackground(join(dir, 'missing.db'))).rejects.toThrow(/not exist|unable to open/i);
  });

  it('a big ingest leaves its checkpoint to the worker and puts the automatic one back once that is through', async () => {
    const pages = generateCorpus(join(dir, 'pages'), 9_000);
    const store = openStore(join(dir, 'big.db'));
    const auto = store.db.pragma('wal_autocheckpoint', { simple: true });
    // One transaction: the whole log waits for the checkpoint after it.
    const report = ingestPaths(store, [pages], clock, { chunkMs: 0 });
    expect(report.added).toBe(9_000);
    expect(report.walCheckpoint).toBeInstanceOf(Promise);
    // Off until the worker folded the log back: the next small commit here must not copy the whole log itself.
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const framesBefore = behind(store.db);
    store.db.prepare('UPDATE papers SET upvotes = 1 WHERE id = (SELECT min(id) FROM papers)').run();
    expect(behind(store.db)).toBeGreaterThanOrEqual(framesBefore);
    // The search index's file too: the worker wrote it, and its connection leaves the log for this checkpoint.
    expect(behind(store.db, 'search')).toBeGreaterThan(100);
    expect(await report.walCheckpoint).toBeGreaterThan(1000);
    await new Promise((r) => setImmediate(r));
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(auto);
    expect(behind(store.db)).toBe(0);
    expect(behind(store.db, 'search')).toBe(0);
    // In chunks (the default), each chunk's log is checkpointed on the worker meanwhile, and the last one afterwards.
    const chunked = ingestPaths(store, [generateCorpus(join(dir, 'more'), 9_000, 500, 99)], clock, { chunkMs: 1, pauseMs: 5 });
    expect(chunked.added).toBeGreaterThan(8_000);
    expect(chunked.walCheckpoint).toBeInstanceOf(Promise);
    await chunked.walCheckpoint;
    expect(behind(store.db)).toBe(0);
    expect(behind(store.db, 'search')).toBe(0);
    // A small one (the seeds) keeps SQLite's own checkpoint in its commit.
    expect(ingestPaths(store, ['seeds'], clock).walCheckpoint).toBeUndefined();
    store.close();
  });

  it('holds nest: the setting comes back once the checkpoint of every big write settled, or at once when a write failed', async () => {
    const store = openStore(join(dir, 'nest.db'));
    store.db.pragma('wal_autocheckpoint = 777');
    const auto = () => store.db.pragma('wal_autocheckpoint', { simple: true });
    const first = suspendAutoCheckpoint(store.db);
    const second = suspendAutoCheckpoint(store.db);
    expect(auto()).toBe(0);
    let settle!: () => void;
    const firstCheckpoint = new Promise<void>((r) => (settle = r));
    first(firstCheckpoint);
    second();
    second();
    // The second write failed and gave its hold back (twice: no effect); the first one's checkpoint still runs.
    expect(auto()).toBe(0);
    settle();
    await firstCheckpoint;
    await new Promise((r) => setImmediate(r));
    expect(auto()).toBe(777);
    // A failed checkpoint gives the setting back as well.
    const third = suspendAutoCheckpoint(store.db);
    const failed = Promise.reject(new Error('checkpoint failed'));
    third(failed);
    await failed.catch(() => {});
    await new Promise((r) => setImmediate(r));
    expect(auto()).toBe(777);
    store.close();
  });
});
