import type { Failure } from '@/utils/failure';
import { describeFailure } from '@/utils/strings';

export function FailureNotice({ failure }: { failure: Failure }) {
  const { title, nextStep } = describeFailure(failure);
  return (
    <div class="notice notice-error" role="alert">
      <p class="notice-title">{title}</p>
      <p>{nextStep}</p>
    </div>
  );
}
