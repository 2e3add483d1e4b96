import { useI18n, languageNames, languages, type LanguageSetting } from '../i18n';

export function LanguagePicker({ compact = false }: { compact?: boolean }) {
  const { t, setting, setLanguage } = useI18n();
  return (
    <label className={compact ? 'lang-picker compact' : 'field'}>
      <span className={compact ? 'sr-only' : undefined}>{t('settings.language')}</span>
      <select value={setting} onChange={(e) => setLanguage(e.target.value as LanguageSetting)}>
        <option value="auto">{t('settings.language.auto')}</option>
        {languages.map((l) => (
          <option key={l} value={l} lang={l}>
            {languageNames[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
