import type { Failure } from '@/utils/failure';
import { describeFailure } from '@/utils/failure-text';
import { t } from '@/utils/i18n';
import { browser } from 'wxt/browser';

interface FailureNoticeProps {
  failure: Failure;
  /** A refresh failed: the saved data is still shown, so this is news (a status), not an alarm. */
  refresh?: boolean;
}

export function FailureNotice({ failure, refresh = false }: FailureNoticeProps) {
  const { title, nextStep, fixInOptions } = describeFailure(failure);
  return (
    <div
      class={refresh ? 'notice' : 'notice notice-error'}
      role={refresh ? 'status' : 'alert'}
      data-testid="notice"
    >
      <p class="notice-title">{refresh ? t('refreshFailed', title) : title}</p>
      <p>{nextStep}</p>
      {fixInOptions && (
        <button type="button" class="ghost" onClick={() => void browser.runtime.openOptionsPage()}>
          {t('options')}
        </button>
      )}
    </div>
  );
}
