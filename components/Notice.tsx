import type { Failure } from '@/utils/failure';
import { describeFailure } from '@/utils/failure-text';
import { t } from '@/utils/i18n';
import { browser } from 'wxt/browser';

interface NoticeProps {
  failure: Failure;
  onDismiss: () => void;
}

/** One problem, what to do next, and a way to put it away. A choice the person made is news, not an alarm. */
export function Notice({ failure, onDismiss }: NoticeProps) {
  const { title, nextStep, fixInOptions, neutral } = describeFailure(failure);
  return (
    <div
      class={neutral ? 'notice' : 'notice notice-error'}
      role={neutral ? 'status' : 'alert'}
      data-testid="notice"
    >
      <p class="notice-title">{title}</p>
      <p>{nextStep}</p>
      <div class="actions">
        {fixInOptions && (
          <button type="button" class="link" onClick={() => void browser.runtime.openOptionsPage()}>
            {t('options')}
          </button>
        )}
        <button type="button" class="link" onClick={onDismiss}>
          {t('dismiss')}
        </button>
      </div>
    </div>
  );
}
