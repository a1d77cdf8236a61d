import { t } from '@/utils/i18n';

export function ConnectingNotice() {
  return (
    <div class="notice" role="status" aria-busy="true">
      <span class="spinner" aria-hidden="true" />
      <div>
        <p class="notice-title">{t('connectingTitle')}</p>
        <p>{t('connectingHint')}</p>
      </div>
    </div>
  );
}
