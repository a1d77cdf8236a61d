import type { Failure } from '@/utils/failure';
import { describeFailure } from '@/utils/failure-text';
import { t } from '@/utils/i18n';
import { browser } from 'wxt/browser';

export function FailureNotice({ failure }: { failure: Failure }) {
  const { title, nextStep, fixInOptions } = describeFailure(failure);
  return (
    <div class="notice notice-error" role="alert">
      <p class="notice-title">{title}</p>
      <p>{nextStep}</p>
      {fixInOptions && (
        <button type="button" class="ghost" onClick={() => void browser.runtime.openOptionsPage()}>
          {t('options')}
        </button>
      )}
    </div>
  );
}
