import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en, type MessageKey } from './en';
import { formatMessage, type Params } from './format';
import { ko } from './ko';

export type { MessageKey } from './en';
export type Language = 'en' | 'ko';
export type LanguageSetting = Language | 'auto';

export const languages: readonly Language[] = ['en', 'ko'];
export const languageNames: Record<Language, string> = { en: 'English', ko: '한국어' };
const catalogues: Record<Language, Record<MessageKey, string>> = { en, ko };
const storageKey = 'parley.language';

/** The first supported language among the browser's preferences; English otherwise. */
export function detectLanguage(preferred: readonly string[] = navigatorLanguages()): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base && (languages as readonly string[]).includes(base)) return base as Language;
  }
  return 'en';
}

function navigatorLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

export function translate(language: Language, key: MessageKey, params?: Params): string {
  return formatMessage(language, catalogues[language][key] ?? en[key], params);
}

export interface I18n {
  language: Language;
  setting: LanguageSetting;
  setLanguage(setting: LanguageSetting): void;
  t(key: MessageKey, params?: Params): string;
  /** "14:05" / "오후 2:05". */
  time(date: Date | string): string;
  /** "Today", "Yesterday", "Monday, March 2", "March 2, 2025". */
  day(date: Date | string, now?: Date): string;
  /** A short stamp for lists: time today, weekday this week, date otherwise. */
  shortStamp(date: Date | string, now?: Date): string;
  /** "5 minutes ago". */
  relative(date: Date | string, now?: Date): string;
  /** Full date and time, for tooltips. */
  full(date: Date | string): string;
}

export function createI18n(
  language: Language,
  setting: LanguageSetting = language,
  set?: (s: LanguageSetting) => void,
): I18n {
  const timeFmt = new Intl.DateTimeFormat(language, { hour: 'numeric', minute: '2-digit' });
  const weekdayFmt = new Intl.DateTimeFormat(language, { weekday: 'long', month: 'long', day: 'numeric' });
  const yearFmt = new Intl.DateTimeFormat(language, { year: 'numeric', month: 'long', day: 'numeric' });
  const shortWeekday = new Intl.DateTimeFormat(language, { weekday: 'short' });
  const shortDate = new Intl.DateTimeFormat(language, { month: 'short', day: 'numeric' });
  const shortYear = new Intl.DateTimeFormat(language, { year: '2-digit', month: 'numeric', day: 'numeric' });
  const fullFmt = new Intl.DateTimeFormat(language, { dateStyle: 'full', timeStyle: 'short' });
  const rtf = new Intl.RelativeTimeFormat(language, { numeric: 'auto' });
  const toDate = (d: Date | string) => (typeof d === 'string' ? new Date(d) : d);
  const t = (key: MessageKey, params?: Params) => translate(language, key, params);
  return {
    language,
    setting,
    setLanguage: set ?? (() => {}),
    t,
    time: (d) => timeFmt.format(toDate(d)),
    day(d, now = new Date()) {
      const date = toDate(d);
      const diff = dayNumber(now) - dayNumber(date);
      if (diff === 0) return t('common.today');
      if (diff === 1) return t('common.yesterday');
      if (diff > 1 && diff < 7) return weekdayFmt.format(date);
      return date.getFullYear() === now.getFullYear() ? weekdayFmt.format(date) : yearFmt.format(date);
    },
    shortStamp(d, now = new Date()) {
      const date = toDate(d);
      const diff = dayNumber(now) - dayNumber(date);
      if (diff === 0) return timeFmt.format(date);
      if (diff === 1) return t('common.yesterday');
      if (diff > 1 && diff < 7) return shortWeekday.format(date);
      return date.getFullYear() === now.getFullYear() ? shortDate.format(date) : shortYear.format(date);
    },
    relative(d, now = new Date()) {
      const seconds = Math.round((toDate(d).getTime() - now.getTime()) / 1000);
      const abs = Math.abs(seconds);
      if (abs < 60) return rtf.format(0, 'second');
      if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
      if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
      return rtf.format(Math.round(seconds / 86400), 'day');
    },
    full: (d) => fullFmt.format(toDate(d)),
  };
}

/** Local calendar day number, for "same day" comparisons across DST changes. */
export function dayNumber(date: Date): number {
  return Math.floor(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) / 86_400_000);
}

const I18nContext = createContext<I18n>(createI18n('en'));

function readSetting(): LanguageSetting {
  try {
    const v = localStorage.getItem(storageKey);
    if (v === 'en' || v === 'ko') return v;
  } catch {
    // storage unavailable (private mode): fall back to the browser language
  }
  return 'auto';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [setting, setSetting] = useState<LanguageSetting>(readSetting);
  const [detected, setDetected] = useState<Language>(() => detectLanguage());
  useEffect(() => {
    const onChange = () => setDetected(detectLanguage());
    window.addEventListener('languagechange', onChange);
    return () => window.removeEventListener('languagechange', onChange);
  }, []);
  const update = useCallback((next: LanguageSetting) => {
    try {
      if (next === 'auto') localStorage.removeItem(storageKey);
      else localStorage.setItem(storageKey, next);
    } catch {
      // not persisted; still applies for this session
    }
    setSetting(next);
  }, []);
  const language = setting === 'auto' ? detected : setting;
  const value = useMemo(() => createI18n(language, setting, update), [language, setting, update]);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}
