import { describeOperationFailure } from '@/utils/failure-text';
import { t } from '@/utils/i18n';
import type { OperationState } from '@/utils/storage';
import { ConfirmAction } from './ConfirmAction';

interface SignOutProps {
  /** The last sign-out as the background recorded it, or undefined for none worth saying. */
  state: OperationState | undefined;
  /** Whether there is a session to end; the button shows only then. */
  signedIn: boolean;
  onConfirm: () => void;
  /** For the end-to-end tests, on the button. */
  testId?: string;
}

/** What became of the last sign-out, and the button for the next: the popup and the options page both offer it. */
export function SignOut({ state, signedIn, onConfirm, testId }: SignOutProps) {
  return (
    <>
      <p role="status" class="muted">
        {state?.status === 'pending' && t('signingOut')}
        {state?.status === 'done' && t('signedOut')}
        {state?.status === 'failed' && describeOperationFailure(state.failure)}
      </p>
      {signedIn && (
        <ConfirmAction
          label={t('signOut')}
          question={t('signOutConfirm')}
          disabled={state?.status === 'pending'}
          testId={testId}
          onConfirm={onConfirm}
        />
      )}
    </>
  );
}
