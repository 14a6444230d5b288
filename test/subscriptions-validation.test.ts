// Edge checks: email normalisation and rejection, preference limits, signed and random tokens.
import { describe, expect, it } from 'vitest';
import { checkEmail, EMAIL_MESSAGES } from '../src/subscriptions/email.js';
import { preferencesSchema, PREFERENCE_MESSAGES, fieldErrors, canonicalTimeZone } from '../src/subscriptions/preferences.js';
import { pendingPreferences } from '../src/subscriptions/lifecycle.js';
import { SubscriberRow } from '../src/subscriptions/repository.js';
import { newConfirmToken, hashConfirmToken, signSubscriberToken, verifySubscriberToken } from '../src/subscriptions/tokens.js';

const SECRET = 'a-secret-key-that-is-long-enough-for-tests';

describe('checkEmail', () => {
  it('trims blanks and lower-cases only the domain', () => {
    expect(checkEmail('  Ada.Lovelace@Example.ORG\t')).toEqual({ email: 'Ada.Lovelace@example.org' });
    expect(checkEmail('x+tag@bücher.de')).toEqual({ email: 'x+tag@xn--bcher-kva.de' });
  });
  it.each([
    ['a@example.org\r\nBcc: victim@example.com', EMAIL_MESSAGES.control],
    ['a@example.org\nBcc: victim@example.com', EMAIL_MESSAGES.control],
    ['a@example.org\r', EMAIL_MESSAGES.control],
    ['a\u0000@example.org', EMAIL_MESSAGES.control],
    ['"a b"@example.org', EMAIL_MESSAGES.quotes],
    ["o'brien@example.org", EMAIL_MESSAGES.quotes],
    ['a@example.org, b@example.org', EMAIL_MESSAGES.several],
    ['a@example.org;b@example.org', EMAIL_MESSAGES.several],
    ['a@b@example.org', EMAIL_MESSAGES.several],
    ['Ada <ada@example.org>', EMAIL_MESSAGES.brackets],
    ['<ada@example.org>', EMAIL_MESSAGES.brackets],
    ['not an email', EMAIL_MESSAGES.shape],
    ['ada lovelace@example.org', EMAIL_MESSAGES.spaces],
    ['ada@localhost', EMAIL_MESSAGES.domain],
    ['ada@-bad.example', EMAIL_MESSAGES.domain],
    ['ada.@example.org', EMAIL_MESSAGES.shape],
    ['', EMAIL_MESSAGES.empty],
    ['plainaddress', EMAIL_MESSAGES.shape],
    [`${'a'.repeat(65)}@example.org`, EMAIL_MESSAGES.shape],
  ])('rejects %j', (input, message) => {
    expect(checkEmail(input)).toEqual({ error: message });
  });
});

describe('preferences', () => {
  const good = {
    frequency: 'weekly',
    weekday: '3',
    kind: 'both',
    topics: ' LLM, llm , robotics,,',
    digest_size: '12',
    delivery_hour: '6',
    time_zone: 'europe/london',
  };
  it('parses form strings into typed values', () => {
    expect(preferencesSchema.parse(good)).toEqual({
      frequency: 'weekly',
      weekday: 3,
      kind: 'both',
      topics: ['LLM', 'robotics'],
      digest_size: 12,
      delivery_hour: 6,
      time_zone: 'Europe/London',
      // Issue 16's choices, absent from this input: their defaults.
      muted_topics: [],
      followed_authors: [],
      only_with_code: false,
      selection_mode: 'top',
      relevance_bar: 60,
      trend_weight: 50,
    });
  });
  it('reads the ranking choices from form strings, and names each bad one', () => {
    const ranking = {
      ...good,
      muted_topics: ' GAN, gan , robots',
      followed_authors: 'Ada Lovelace,  Alan   Turing',
      only_with_code: '1',
      selection_mode: 'threshold',
      relevance_bar: '75',
      trend_weight: '0',
    };
    expect(preferencesSchema.parse(ranking)).toMatchObject({
      muted_topics: ['GAN', 'robots'],
      followed_authors: ['Ada Lovelace', 'Alan Turing'],
      only_with_code: true,
      selection_mode: 'threshold',
      relevance_bar: 75,
      trend_weight: 0,
    });
    const r = preferencesSchema.safeParse({
      ...ranking,
      muted_topics: Array.from({ length: 11 }, (_, i) => `m${i}`).join(','),
      followed_authors: 'x'.repeat(81),
      only_with_code: 'perhaps',
      selection_mode: 'random',
      relevance_bar: '101',
      trend_weight: '-1',
    });
    expect(fieldErrors(r.error!)).toEqual({
      muted_topics: PREFERENCE_MESSAGES.mutedCount,
      followed_authors: PREFERENCE_MESSAGES.authorLength,
      only_with_code: PREFERENCE_MESSAGES.onlyWithCode,
      selection_mode: PREFERENCE_MESSAGES.selectionMode,
      relevance_bar: PREFERENCE_MESSAGES.relevanceBar,
      trend_weight: PREFERENCE_MESSAGES.trendWeight,
    });
    expect(fieldErrors(preferencesSchema.safeParse({ ...ranking, followed_authors: Array.from({ length: 21 }, (_, i) => `A${i}`).join(',') }).error!)).toEqual({
      followed_authors: PREFERENCE_MESSAGES.authorsCount,
    });
  });
  it('names each bad field with a clear message', () => {
    const r = preferencesSchema.safeParse({
      ...good,
      digest_size: '31',
      delivery_hour: '24',
      time_zone: 'Mars/Olympus',
      frequency: 'hourly',
      topics: Array(11)
        .fill(0)
        .map((_, i) => `t${i}`)
        .join(','),
    });
    expect(r.success).toBe(false);
    expect(fieldErrors(r.error!)).toEqual({
      digest_size: PREFERENCE_MESSAGES.digestSize,
      delivery_hour: PREFERENCE_MESSAGES.deliveryHour,
      time_zone: PREFERENCE_MESSAGES.timeZone,
      frequency: PREFERENCE_MESSAGES.frequency,
      topics: PREFERENCE_MESSAGES.topicsCount,
    });
    expect(fieldErrors(preferencesSchema.safeParse({ ...good, digest_size: '0' }).error!)).toEqual({ digest_size: PREFERENCE_MESSAGES.digestSize });
    expect(fieldErrors(preferencesSchema.safeParse({ ...good, topics: 'x'.repeat(41) }).error!)).toEqual({ topics: PREFERENCE_MESSAGES.topicLength });
  });
  it('knows IANA zones and refuses the rest', () => {
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York');
    expect(canonicalTimeZone('Not/AZone')).toBeNull();
    expect(canonicalTimeZone('../../etc/passwd')).toBeNull();
  });
});

describe('pending preferences', () => {
  const row = (pending: string | null) =>
    SubscriberRow.parse({
      id: 1,
      email: 'a@example.org',
      status: 'unsubscribed',
      frequency: 'daily',
      weekday: 1,
      kind: 'trending',
      topics: '[]',
      digest_size: 10,
      delivery_hour: 8,
      time_zone: 'UTC',
      source: 'web',
      created_at: 'x',
      updated_at: 'x',
      confirmed_at: null,
      unsubscribed_at: null,
      last_confirmation_sent_at: null,
      bounced_at: null,
      bounce_reason: null,
      pending_preferences: pending,
      complained_at: null,
      muted_topics: '["survey"]',
      followed_authors: '["Ada Lovelace"]',
      only_with_code: 1,
      selection_mode: 'threshold',
      relevance_bar: 80,
      trend_weight: 10,
    });
  it("saved before the ranking fields existed, keep the row's ranking choices rather than the defaults", () => {
    const old = JSON.stringify({ frequency: 'weekly', weekday: 2, kind: 'new', topics: ['llm'], digest_size: 5, delivery_hour: 6, time_zone: 'UTC' });
    expect(pendingPreferences(row(old))).toMatchObject({
      frequency: 'weekly',
      topics: ['llm'],
      muted_topics: ['survey'],
      followed_authors: ['Ada Lovelace'],
      only_with_code: true,
      selection_mode: 'threshold',
      relevance_bar: 80,
      trend_weight: 10,
    });
    expect(pendingPreferences(row(JSON.stringify({ trend_weight: 90 })))).toMatchObject({ frequency: 'daily', trend_weight: 90, relevance_bar: 80 });
    expect(pendingPreferences(row(JSON.stringify({ trend_weight: 900 })))).toBeNull();
  });
});

describe('tokens', () => {
  it('confirm tokens carry 256 random bits and are stored as their sha256', () => {
    const a = newConfirmToken();
    const b = newConfirmToken();
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.hash).toBe(hashConfirmToken(a.token));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('signed tokens verify for their id and purpose only', () => {
    const t = signSubscriberToken(42, 'unsubscribe', SECRET);
    expect(verifySubscriberToken(t, 'unsubscribe', SECRET)).toBe(42);
    // Mail systems may fold the case of a local part: still valid.
    expect(verifySubscriberToken(t.toUpperCase(), 'unsubscribe', SECRET)).toBe(42);
    expect(verifySubscriberToken(t, 'manage', SECRET)).toBeNull();
    expect(verifySubscriberToken(t, 'unsubscribe', SECRET + 'x')).toBeNull();
    expect(verifySubscriberToken(t.replace(/^42-/, '43-'), 'unsubscribe', SECRET)).toBeNull();
    const mac = t.split('-')[1]!;
    expect(verifySubscriberToken(`42-${mac.slice(0, -1)}${mac.endsWith('0') ? '1' : '0'}`, 'unsubscribe', SECRET)).toBeNull();
    expect(verifySubscriberToken('42', 'unsubscribe', SECRET)).toBeNull();
    expect(verifySubscriberToken('', 'unsubscribe', SECRET)).toBeNull();
    expect(`unsubscribe+${signSubscriberToken(2 ** 40, 'unsubscribe', SECRET)}`.length).toBeLessThanOrEqual(64);
  });
});
