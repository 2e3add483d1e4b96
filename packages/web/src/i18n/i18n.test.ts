import { describe, expect, it } from 'vitest';
import { en } from './en';
import { formatMessage } from './format';
import { createI18n, detectLanguage, translate } from './index';
import { ko } from './ko';

describe('i18n', () => {
  it('has a Korean string for every English key and nothing extra', () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    for (const [key, value] of Object.entries(ko)) expect(value, key).not.toBe('');
  });

  it('keeps the names outside tests rely on', () => {
    expect([en['auth.username'], en['auth.password'], en['auth.signup'], en['auth.login'], en['auth.logout']]).toEqual([
      'Username',
      'Password',
      'Sign up',
      'Log in',
      'Log out',
    ]);
    expect([en['nav.newMessage'], en['nav.newGroup'], en['composer.label'], en['composer.send']]).toEqual([
      'New message',
      'New group',
      'Message',
      'Send',
    ]);
  });

  it('formats substitutions and plurals', () => {
    expect(formatMessage('en', 'Hi {name}!', { name: 'Bo' })).toBe('Hi Bo!');
    const plural = '{count, plural, one {# member} other {# members}}';
    expect(formatMessage('en', plural, { count: 1 })).toBe('1 member');
    expect(formatMessage('en', plural, { count: 1200 })).toBe('1,200 members');
    expect(formatMessage('en', '{count, plural, =0 {none} other {#}}', { count: 0 })).toBe('none');
    expect(formatMessage('en', 'missing {x}')).toBe('missing {x}');
    expect(translate('ko', 'chat.members', { count: 3 })).toBe('멤버 3명');
  });

  it('follows the browser language, English otherwise', () => {
    expect(detectLanguage(['ko-KR', 'en-US'])).toBe('ko');
    expect(detectLanguage(['fr-FR', 'ko'])).toBe('ko');
    expect(detectLanguage(['de-DE'])).toBe('en');
    expect(detectLanguage([])).toBe('en');
  });

  it('localizes days and times', () => {
    const now = new Date(2026, 2, 10, 15, 0);
    const enI = createI18n('en');
    const koI = createI18n('ko');
    expect(enI.day(new Date(2026, 2, 10, 9, 0), now)).toBe('Today');
    expect(koI.day(new Date(2026, 2, 9, 9, 0), now)).toBe('어제');
    expect(enI.day(new Date(2025, 11, 24, 9, 0), now)).toBe('December 24, 2025');
    expect(koI.day(new Date(2025, 11, 24, 9, 0), now)).toBe('2025년 12월 24일');
    expect(enI.time(new Date(2026, 2, 10, 14, 5))).toMatch(/2:05\sPM/);
    expect(koI.time(new Date(2026, 2, 10, 14, 5))).toMatch(/2:05/);
    expect(enI.shortStamp(new Date(2026, 2, 8, 9, 0), now)).toBe('Sun');
  });
});
