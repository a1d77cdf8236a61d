import { strings } from '@/utils/strings';

export function ConnectingNotice() {
  return (
    <div class="notice" role="status" aria-busy="true">
      <span class="spinner" aria-hidden="true" />
      <div>
        <p class="notice-title">{strings.connectingTitle}</p>
        <p>{strings.connectingHint}</p>
      </div>
    </div>
  );
}
