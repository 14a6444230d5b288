// `paperboy subscribers ...` driven through commander against a real SQLite file.
import { createOutboxMessenger } from '../src/mail/outbox-messenger.js';
import { createOutbox } from '../src/mail/outbox.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { registerSubscriberCommands } from '../src/cli/subscribers.js';
import { createSubscriberRepository } from '../src/subscriptions/repository.js';

const dirs: string[] = [];
const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newApp(): { app: App; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-cli-'));
  dirs.push(dir);
  const app = createApp(loadConfig({ DATA_DIR: dir, SECRET_KEY: 'cli-test-secret-0123456789abcdefghijkl' }), { log: silentLogger });
  apps.push(app);
  return { app, dir };
}

async function run(app: App, ...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const program = new Command('paperboy').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerSubscriberCommands(program, () => app, { out: (s) => (out += s) });
  try {
    await program.parseAsync(['subscribers', ...args], { from: 'user' });
    return { out, err, code: 0 };
  } catch (e) {
    return { out, err, code: (e as { exitCode?: number }).exitCode ?? 99 };
  }
}

describe('paperboy subscribers', () => {
  it('adds, lists, removes, with clear errors', async () => {
    const { app } = newApp();
    const repo = createSubscriberRepository(app.store);
    expect((await run(app, 'add', 'Admin@Example.org', '--confirmed', '--frequency', 'weekly', '--weekday', '5', '--topics', 'llm, agents')).out).toContain(
      'added Admin@example.org (active)',
    );
    const pend = await run(app, 'add', 'pending@example.org', '--kind', 'new');
    expect(pend.out).toContain('added pending@example.org (pending)');
    expect(pend.out).toContain('confirmation email is queued');
    expect(repo.confirmationsFor(repo.byEmail('pending@example.org')!.id)).toHaveLength(1);

    const list = await run(app, 'list');
    expect(list.out).toMatch(/Admin@example\.org\s+active\s+weekly\/Fri\s+trending\s+10\s+08\s+UTC\s+llm, agents/);
    expect(list.out).toMatch(/pending@example\.org\s+pending\s+daily\s+new/);
    expect(list.out).toContain('total: pending 1, active 1, unsubscribed 0, bounced 0');
    expect(
      (await run(app, 'list', '--status', 'pending', '--json')).out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).email),
    ).toEqual(['pending@example.org']);

    const bad = await run(app, 'add', 'a@example.org\r\nBcc: x@example.org');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('line breaks');
    const badPref = await run(app, 'add', 'b@example.org', '--size', '40', '--time-zone', 'Nowhere/City');
    expect(badPref.code).toBe(1);
    expect(badPref.err).toContain('error: --size: Choose a number of papers from 1 to 30.');
    expect(badPref.err).toContain('error: --time-zone: That is not a time zone we know');
    expect((await run(app, 'list', '--status', 'nope')).code).toBe(1);

    expect((await run(app, 'remove', 'pending@example.org')).out).toContain('pending@example.org unsubscribed');
    expect(repo.byEmail('pending@example.org')!.status).toBe('unsubscribed');
    expect((await run(app, 'add', 'pending@example.org', '--confirmed')).out).toContain('now active (was unsubscribed)');
    // A message the embedded outbox stored for the address goes with it.
    await createOutboxMessenger(app.config, silentLogger).sendRaw({
      envelope: { from: 'digest@example.org', to: ['pending@example.org'] },
      raw: Buffer.from('Subject: d\r\n\r\nhello\r\n'),
      messageId: '<m1@x>',
    });
    expect((await createOutbox(app.config.OUTBOX_DIR).list()).total).toBe(1);
    expect((await run(app, 'remove', 'pending@example.org', '--delete')).out).toContain(
      'pending@example.org deleted, with its delivery history and the 1 message the outbox held for it',
    );
    expect((await createOutbox(app.config.OUTBOX_DIR).list()).total).toBe(0);
    expect(repo.byEmail('pending@example.org')).toBeNull();
    expect((await run(app, 'remove', 'ghost@example.org')).err).toContain('no subscriber with address ghost@example.org');
  });

  it('exports CSV that imports back with the same people and preferences', async () => {
    const { app, dir } = newApp();
    await run(app, 'add', 'one@example.org', '--confirmed', '--topics', 'diffusion, "quoted", x');
    await run(app, 'add', 'two@example.org', '--confirmed', '--kind', 'both', '--hour', '6', '--time-zone', 'Asia/Tokyo');
    const three = [
      '--muted',
      'robots, GAN',
      '--follow',
      'Ada Lovelace, Alan Turing',
      '--only-with-code',
      '--mode',
      'threshold',
      '--bar',
      '70',
      '--trend',
      '20',
    ];
    expect((await run(app, 'add', 'three@example.org', '--confirmed', ...three)).code).toBe(0);
    const badRanking = await run(app, 'add', 'four@example.org', '--mode', 'sometimes', '--trend', '101');
    expect(badRanking.code).toBe(1);
    expect(badRanking.err).toContain('error: --mode: Choose "the best N papers" or "only papers above the bar".');
    expect(badRanking.err).toContain('error: --trend: Choose a value from 0 (only my topics) to 100 (only trending).');
    await run(app, 'add', 'left@example.org', '--confirmed');
    await run(app, 'remove', 'left@example.org');
    const file = join(dir, 'out.csv');
    expect((await run(app, 'export', file)).out).toContain('exported 4 subscriber(s)');
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\r\n')[0]).toBe(
      'email,status,frequency,weekday,kind,topics,digest_size,delivery_hour,time_zone,source,created_at,confirmed_at,unsubscribed_at,muted_topics,followed_authors,only_with_code,selection_mode,relevance_bar,trend_weight',
    );
    expect(csv).toContain('"diffusion, ""quoted"", x"');

    const { app: other } = newApp();
    const r = await run(other, 'import', file, '--confirmed');
    expect(r.out).toContain('read 4 row(s): added 3 (active), skipped 1, rejected 0');
    expect(r.out).toContain('marked "unsubscribed" in the file');
    const repo = createSubscriberRepository(other.store);
    expect(repo.byEmail('one@example.org')).toMatchObject({ status: 'active', topics: ['diffusion', '"quoted"', 'x'] });
    expect(repo.byEmail('two@example.org')).toMatchObject({ kind: 'both', delivery_hour: 6, time_zone: 'Asia/Tokyo' });
    expect(repo.byEmail('left@example.org')).toBeNull();
    expect(repo.byEmail('three@example.org')).toMatchObject({
      muted_topics: ['robots', 'GAN'],
      followed_authors: ['Ada Lovelace', 'Alan Turing'],
      only_with_code: true,
      selection_mode: 'threshold',
      relevance_bar: 70,
      trend_weight: 20,
    });
    // The others keep the defaults after the round trip.
    expect(repo.byEmail('two@example.org')).toMatchObject({
      muted_topics: [],
      only_with_code: false,
      selection_mode: 'top',
      relevance_bar: 60,
      trend_weight: 50,
    });
  });

  it('imports a CSV written before the ranking columns, and names a bad ranking cell', async () => {
    const { app, dir } = newApp();
    const file = join(dir, 'old.csv');
    writeFileSync(
      file,
      'email,status,frequency,weekday,kind,topics,digest_size,delivery_hour,time_zone,source,created_at,confirmed_at,unsubscribed_at\r\n' +
        'old@example.org,active,daily,1,trending,diffusion,10,8,UTC,web,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,\r\n',
    );
    expect((await run(app, 'import', file, '--confirmed')).out).toContain('added 1 (active)');
    const repo = createSubscriberRepository(app.store);
    expect(repo.byEmail('old@example.org')).toMatchObject({
      topics: ['diffusion'],
      muted_topics: [],
      followed_authors: [],
      only_with_code: false,
      trend_weight: 50,
    });
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'email,only_with_code,relevance_bar\nx@example.org,maybe,120\ny@example.org,yes,80\n');
    const r = await run(app, 'import', bad, '--confirmed');
    expect(r.out).toContain('added 1 (active), skipped 0, rejected 1');
    expect(r.out).toContain('only_with_code: Tick the box, or leave it empty.; relevance_bar: Choose a relevance bar from 0 to 100.');
    expect(repo.byEmail('y@example.org')).toMatchObject({ only_with_code: true, relevance_bar: 80 });
  });

  it('exports would-be spreadsheet formulas as text, and imports them back as they were', async () => {
    const { app, dir } = newApp();
    // Both are a subscriber's own choice: `=` and `+` are allowed in an address's local part, topics are free text.
    await run(app, 'add', '=1+2@example.org', '--confirmed', '--topics', '@SUM(A1), -x, plain');
    const file = join(dir, 'out.csv');
    expect((await run(app, 'export', file)).out).toContain('exported 1 subscriber(s)');
    const row = readFileSync(file, 'utf8').split('\r\n')[1]!;
    expect(row.startsWith("'=1+2@example.org,active,")).toBe(true);
    expect(row).toContain(`,"'@SUM(A1), -x, plain",`);

    const { app: other } = newApp();
    expect((await run(other, 'import', file, '--confirmed')).out).toContain('added 1 (active)');
    expect(createSubscriberRepository(other.store).byEmail('=1+2@example.org')).toMatchObject({ topics: ['@SUM(A1)', '-x', 'plain'] });
  });

  it('imports 100,000 rows in one go, reporting what it skipped and rejected and why', async () => {
    const { app, dir } = newApp();
    await run(app, 'add', 'person7@example.org', '--confirmed');
    let csv = 'Email,Kind\n';
    for (let i = 0; i < 100_000; i++) csv += `person${i}@example.org,${i % 3 === 0 ? 'new' : 'trending'}\n`;
    csv += 'person5@example.org,new\n'; // duplicate in the file
    csv += '"evil@example.org\r\nBcc: all@example.org",new\n';
    csv += 'not-an-address,new\n';
    csv += 'fine@example.org,sometimes\n';
    const file = join(dir, 'big.csv');
    writeFileSync(file, csv);

    const r = await run(app, 'import', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('read 100004 row(s): added 99999 (pending), skipped 2, rejected 3');
    expect(r.out).toContain('1 × already in the list');
    expect(r.out).toContain('1 × appears earlier in the file');
    expect(r.out).toContain('kind: Choose trending, new or both.');
    expect(r.out).toMatch(/line 100003: "evil@example\.org\\r\\nBcc: all@example\.org": An email address cannot contain line breaks/);
    expect(r.out).toContain('confirmation emails queued: 99999');
    const repo = createSubscriberRepository(app.store);
    expect(repo.countByStatus()).toEqual({ pending: 99_999, active: 1, unsubscribed: 0, bounced: 0 });
    expect(repo.byEmail('person3@example.org')!.kind).toBe('new');

    // Headerless lists of addresses work too, and --confirmed sends nothing.
    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, 'a1@example.org\r\na2@example.org\r\n\r\n');
    expect((await run(app, 'import', plain, '--confirmed')).out).toContain('read 2 row(s): added 2 (active), skipped 0, rejected 0');
    const noEmail = join(dir, 'bad.csv');
    writeFileSync(noEmail, 'name,city\nAda,London\n');
    const bad = await run(app, 'import', noEmail);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('no "email" column');
  });
});
