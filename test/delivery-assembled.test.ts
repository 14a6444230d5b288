// Digests assembled per reader from per-edition blocks, sent through the real sender to a real smtp-server: each
// message carries its reader's reasons and feedback links, is valid quoted-printable, and equals a full MJML render.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { simpleParser } from 'mailparser';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { Store } from '../src/db/open.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { createSelector } from '../src/digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { feedbackUrl, subscriberLinks } from '../src/subscriptions/subscriber-links.js';
import { resolveSecrets } from '../src/secrets.js';
import { buildSkeleton, encodeBlock, personaliseAssembled, personaliseAssembledForWire } from '../src/delivery/assembled-mime.js';
import { decodeRecipe, encodeRecipe, type AssemblyRecipe } from '../src/render/blocks.js';
import { unStuff } from '../src/mail/smtp-wire.js';
import { startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import { SEEDS_DIR } from './helpers/long-digest.js';

let tmp: ReturnType<typeof tempDir>;
let sink: SmtpReceiver;
let store: Store | undefined;
const clock = new FakeClock(new Date('2026-11-23T10:00:00.000Z'));

beforeEach(async () => {
  tmp = tempDir();
  sink = await startSmtpReceiver();
});
afterEach(async () => {
  store?.close();
  store = undefined;
  await sink.close();
  tmp.cleanup();
});

/** Every line of every quoted-printable part: at most 76 characters, "=" only before two hex digits or as a soft break. */
function expectValidQuotedPrintable(raw: Buffer): number {
  const text = raw.toString('latin1');
  const parts = text.split(/\r\n--[^\r\n]+\r\n/).filter((p) => /content-transfer-encoding:\s*quoted-printable/i.test(p.split('\r\n\r\n')[0]!));
  expect(parts.length).toBe(2);
  let lines = 0;
  for (const p of parts) {
    const body = p.slice(p.indexOf('\r\n\r\n') + 4);
    for (const line of body.split('\r\n')) {
      lines++;
      expect(line.length, line).toBeLessThanOrEqual(76);
      expect(line.replace(/=[0-9A-F]{2}/g, '').replace(/=$/, ''), line).not.toContain('=');
      expect(line, 'no bare CR or LF').not.toMatch(/[\r\n]/);
      expect(line, 'trailing whitespace is encoded').not.toMatch(/[ \t]$/);
    }
  }
  return lines;
}

describe('a digest assembled from blocks', () => {
  it('reaches each reader with their reasons and feedback links, as valid QP, equal to a full render of their selection', async () => {
    const config = testConfig(tmp.dir);
    const secrets = { ...config, ...resolveSecrets(config) };
    const st = (store = openTestStore(config));
    insertPapers(st, 14);
    // Four readers, four different selections (sizes and topics), so four different messages.
    const ids = insertSubscribers(st, 4, (i) => ({ digest_size: 2 + i, kind: i === 4 ? 'both' : 'trending' }));
    st.db.prepare(`UPDATE subscribers SET topics = '["paper 1"]' WHERE id = ?`).run(ids[1]);
    const messenger = createSmtpTestMessenger(sink.port);
    const svc = createDeliveryService({ config, store: st, clock, log: silentLogger, messenger, digest: testDigest(st, config, clock) }, { pollMs: 10 });
    const summary = await svc.run({ trigger: 'cli', mode: 'due' });
    await messenger.close();
    expect(summary.counts.sent).toBe(4);
    expect(sink.received).toHaveLength(4);

    // What the ledger holds: one recipe per reader, and each paper's block once for the edition, whoever got it.
    const variants = st.db.prepare(`SELECT key, length(html) AS bytes FROM edition_variants`).all() as { key: string; bytes: number }[];
    const recipes = variants.filter((v) => !v.key.startsWith('block|') && !v.key.startsWith('wrapper|'));
    expect(recipes).toHaveLength(4);
    for (const r of recipes) expect(r.bytes).toBeLessThan(8_000);
    // Per edition (a kind is an edition of its own): one block per paper any of its readers got.
    const papersSent = new Set(
      (st.db.prepare(`SELECT edition_id, paper_ids FROM deliveries`).all() as { edition_id: number; paper_ids: string }[]).flatMap((r) =>
        (JSON.parse(r.paper_ids) as number[]).map((p) => `${r.edition_id}|${p}`),
      ),
    );
    expect(variants.filter((v) => v.key.startsWith('block|'))).toHaveLength(papersSent.size);
    expect(papersSent.size).toBeLessThan(recipes.length * 4);

    const selector = createSelector({ store: st, clock });
    const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config: secrets });
    for (const id of ids) {
      const sub = st.db.prepare(`SELECT * FROM subscribers WHERE id = ?`).get(id) as { email: string; kind: string; topics: string; digest_size: number };
      const msg = sink.received.find((m) => m.to[0] === sub.email)!;
      expectValidQuotedPrintable(msg.raw);
      const mail = await simpleParser(msg.raw);
      const feedback = (paperId: number, signal: 'more' | 'less') => feedbackUrl(secrets, secrets.SECRET_KEY, id, paperId, signal);
      // The selection as it was at planning (nothing was sent to this reader before it).
      st.db.prepare(`DELETE FROM sent_papers WHERE subscriber_id = ?`).run(id);
      const sel = selector.selectForSubscriber({ id, kind: sub.kind as 'trending', topics: sub.topics, digest_size: sub.digest_size }, '2026-11-23');
      if (sel.status !== 'selected') throw new Error('nothing selected');
      const links = subscriberLinks(secrets, secrets.SECRET_KEY, id);
      const full = await renderer.renderDigest(sel.selection, { slots: { ...links, email: sub.email }, feedback });
      expect(mail.subject).toBe(full.subject);
      expect(String(mail.html).replace(/\r\n/g, '\n')).toBe(full.html);
      expect(mail.text!.replace(/\r\n/g, '\n').trimEnd()).toBe(full.text.trimEnd());
      for (const item of sel.selection.sections.flatMap((s) => s.items)) {
        for (const signal of ['more', 'less'] as const) {
          expect(mail.html).toContain(`href="${feedback(item.paper.id, signal)}"`);
          expect(mail.text).toContain(`${signal === 'more' ? 'More' : 'Less'} like this: ${feedback(item.paper.id, signal)}`);
        }
        expect(mail.text).toContain(item.why.split(' ').slice(0, 4).join(' '));
      }
      expect(String(mail.html).match(/class="why"/g)).toHaveLength(sel.selection.count);
      // The per-recipient headers are still written per message.
      const head = msg.raw.toString('latin1').split('\r\n\r\n')[0]!;
      expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
      expect(head).toContain(`List-Unsubscribe: <${links.unsubscribeUrl}>`);
      expect(head.match(/^Subject:/gm)).toHaveLength(1);
      expect(mail.messageId).toMatch(/^<d\d+\.e\d+\.[0-9a-f]{16}@paperboy\.example>$/);
    }
  });

  it('dot-stuffs a reader value that starts a line, so the wire bytes unstuff to the signed ones', async () => {
    const wrapper = {
      html: '<p>pbxHeadlineXbp</p>\n<div>pbxBlocks0Xbp</div>\nhttps://pbx-placeholder.invalid/pbxManageUrlXbp',
      text: 'pbxHeadlineXbp\npbxBlocks0Xbp\n',
    };
    const block = { html: '<h2>.pbxWhyXbp</h2>\n.dot line\n<a href="https://pbx-placeholder.invalid/pbxMoreUrlXbp">m</a>', text: 'pbxReaderLinesXbp\n.x' };
    const skeleton = await buildSkeleton(wrapper, { from: 'a <a@example.org>', mailDomain: 'example.org', listId: 'l <l.example.org>' });
    const recipe: AssemblyRecipe = {
      v: 1,
      wrapper: 'w',
      strings: { subject: 'Ünïcode “subject”', preheader: 'p', headline: '.headline', intro: 'i' },
      sections: [[{ block: 'b', item: { paperId: 7, rank: 1, why: '.starts with a dot\n.and again', topics: ['.t'] } }]],
    };
    const encoded = encodeBlock(block);
    const v = { skeleton, recipe: decodeRecipe(encodeRecipe(recipe)), blocks: () => encoded };
    const r = {
      email: 'x@example.org',
      messageId: '<m@example.org>',
      date: new Date('2026-11-23T10:00:00Z'),
      links: { manageUrl: 'https://s.example/m', unsubscribeUrl: 'https://s.example/u', unsubscribeMailto: 'mailto:u@example.org' },
    };
    const plain = await personaliseAssembled(v, r, 'https://s.example');
    const wire = await personaliseAssembledForWire(v, r, 'https://s.example');
    expect(wire.dotStuffed).toBe(true);
    expect(unStuff(Buffer.concat(wire.raw)).equals(plain)).toBe(true);
    const mail = await simpleParser(plain);
    expect(mail.subject).toBe('Ünïcode “subject”');
    expect(mail.html).toContain('<h2>..starts with a dot\n.and again</h2>');
    expect(mail.html).toContain('href="https://s.example/papers/7"');
    expect(mail.text).toContain('   .starts with a dot .and again');
  });

  it('gives each reader of one shared recipe their own links, and the shared values the same bytes as a fresh recipe', async () => {
    const wrapper = {
      html: '<h1>pbxHeadlineXbp</h1><p>pbxIntroXbp</p>\n<div>pbxBlocks0Xbp</div>\n<a href="https://pbx-placeholder.invalid/pbxManageUrlXbp">m</a>',
      text: 'pbxHeadlineXbp\npbxBlocks0Xbp\n',
    };
    const block = {
      html: '<b>pbxRankXbp</b>pbxChipsXbp<i>pbxWhyXbp</i><a href="https://pbx-placeholder.invalid/pbxMoreUrlXbp">+</a><a href="https://pbx-placeholder.invalid/pbxLessUrlXbp">-</a>',
      text: 'pbxRankXbp. pbxReaderLinesXbp\nMore: https://pbx-placeholder.invalid/pbxMoreUrlXbp\nLess: https://pbx-placeholder.invalid/pbxLessUrlXbp',
    };
    const skeleton = await buildSkeleton(wrapper, { from: 'a <a@example.org>', mailDomain: 'example.org', listId: 'l <l.example.org>' });
    const recipe: AssemblyRecipe = {
      v: 1,
      wrapper: 'w',
      strings: { subject: 'Today’s top 2 papers', preheader: 'p', headline: 'Today’s top 2 papers', intro: 'Papers matching “diffusion” come first.' },
      sections: [
        [
          { block: 'b', item: { paperId: 7, rank: 1, why: 'matches: diffusion · +35 upvotes today', topics: ['diffusion'] } },
          { block: 'b', item: { paperId: 9, rank: 2, why: '+12 upvotes today', topics: [] } },
        ],
      ],
    };
    const encoded = encodeBlock(block);
    const shared = { skeleton, recipe: decodeRecipe(encodeRecipe(recipe)), blocks: () => encoded };
    const reader = (n: number) => ({
      email: `r${n}@example.org`,
      messageId: `<m${n}@example.org>`,
      date: new Date('2026-11-23T10:00:00Z'),
      links: {
        manageUrl: `https://s.example/m/${n}`,
        unsubscribeUrl: `https://s.example/u/${n}`,
        unsubscribeMailto: 'mailto:u@example.org',
        feedback: (paperId: number, signal: 'more' | 'less') => `https://s.example/feedback/r${n}p${paperId}/${signal}`,
      },
    });
    for (const n of [1, 2, 3]) {
      // The same recipe object for all three (as the sender keeps one per variant), against a recipe of its own.
      const viaShared = await personaliseAssembled(shared, reader(n), 'https://s.example');
      const fresh = await personaliseAssembled({ skeleton, recipe: decodeRecipe(encodeRecipe(recipe)), blocks: () => encoded }, reader(n), 'https://s.example');
      expect(viaShared.equals(fresh)).toBe(true);
      const wire = await personaliseAssembledForWire(shared, reader(n), 'https://s.example');
      expect(unStuff(Buffer.concat(wire.raw)).equals(fresh)).toBe(true);
      const mail = await simpleParser(viaShared);
      for (const paperId of [7, 9]) {
        for (const signal of ['more', 'less'] as const) {
          expect(mail.html).toContain(`href="https://s.example/feedback/r${n}p${paperId}/${signal}"`);
          expect(mail.text).toContain(`https://s.example/feedback/r${n}p${paperId}/${signal}`);
        }
      }
      expect(mail.html).toContain(`href="https://s.example/m/${n}"`);
      expect(String(mail.html)).not.toMatch(new RegExp(`/r${n === 1 ? 2 : 1}p`));
      expect(mail.html).toContain('matches: diffusion · +35 upvotes today');
      expect(mail.text).toContain('+12 upvotes today');
      expectValidQuotedPrintable(viaShared);
    }
  });

  it('records as sent only the cards a digest carries when the last ones had to go for the size budget', async () => {
    // A 460-character PUBLIC_URL starts five links a card: 30 cards of the longest abstracts cannot fit 90 KB.
    const config = testConfig(tmp.dir, { PUBLIC_URL: `https://paperboy.example/${'deep/'.repeat(90)}site` });
    const st = (store = openTestStore(config));
    const at = new FakeClock(new Date('2026-12-03T08:00:00Z'));
    ingestPaths(st, [SEEDS_DIR], at);
    const all = st.db.prepare('SELECT id FROM papers ORDER BY length(abstract) DESC, id').all() as { id: number }[];
    const repo = createPapersRepo(st);
    for (const { id } of all.slice(30)) repo.remove(id, at.now());
    const [id] = insertSubscribers(st, 1, { kind: 'new', digest_size: 30 });
    const messenger = createSmtpTestMessenger(sink.port);
    const svc = createDeliveryService({ config, store: st, clock: at, log: silentLogger, messenger, digest: testDigest(st, config, at) }, { pollMs: 10 });
    const summary = await svc.run({ trigger: 'cli', mode: 'force' });
    await messenger.close();
    expect(summary.counts.sent).toBe(1);
    const mail = await simpleParser(sink.received[0]!.raw);
    const cards = String(mail.html).match(/class="why"/g)?.length ?? 0;
    expect(cards).toBeGreaterThan(0);
    expect(cards).toBeLessThan(30);
    expect(Buffer.byteLength(String(mail.html))).toBeLessThan(90 * 1024);
    const row = st.db.prepare('SELECT paper_ids FROM deliveries WHERE subscriber_id = ?').get(id) as { paper_ids: string };
    expect(JSON.parse(row.paper_ids)).toHaveLength(cards);
    // The papers that did not fit stay unsent for this reader: the next digest may carry them.
    expect(st.db.prepare('SELECT count(*) AS n FROM sent_papers WHERE subscriber_id = ?').get(id)).toEqual({ n: cards });
  });
});
