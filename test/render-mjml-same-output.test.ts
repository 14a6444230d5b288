import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mjml2html } from '../src/render/mjml.js';
import { EMAIL_TEMPLATES_DIR } from '../src/subscriptions/confirm-email.js';

// Its own file: it loads MJML in this thread to compare, which render-mjml.test.ts checks the code never does.
const inProcess = createRequire(import.meta.url)('mjml') as (s: string, o?: object) => Promise<{ html: string; errors: unknown[] }>;

describe('MJML on its thread compiles what MJML in the process compiles', () => {
  it('gives the same HTML, byte for byte, for the confirmation email and a digest-like document', async () => {
    const confirm = readFileSync(join(EMAIL_TEMPLATES_DIR, 'confirm.mjml.hbs'), 'utf8');
    const digestLike = `<mjml><mj-head><mj-attributes><mj-all font-family="Georgia, serif" /></mj-attributes>
      <mj-style inline="inline">.card { color: #a63d2a; }</mj-style><mj-title>pbxSubjectXbp</mj-title></mj-head>
      <mj-body><mj-section><mj-column><mj-text css-class="card">pbxBlocks0Xbp</mj-text><mj-divider />
      <mj-button href="https://paperboy.example.org/u/pbxUnsubscribeXbp">Unsubscribe</mj-button></mj-column></mj-section></mj-body></mjml>`;
    for (const [source, options] of [
      [confirm, { validationLevel: 'strict', filePath: EMAIL_TEMPLATES_DIR, fonts: {} }],
      [digestLike, { validationLevel: 'soft', fonts: {}, keepComments: false }],
    ] as const) {
      const there = await mjml2html(source, options);
      const here = await inProcess(source, options);
      expect(there.html.length).toBeGreaterThan(1000);
      expect(there.html).toBe(here.html);
      expect(there.errors).toHaveLength(here.errors.length);
    }
  });
});
