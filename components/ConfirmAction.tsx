import type { RefObject } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '@/utils/i18n';

interface ConfirmActionProps {
  label: string;
  /** The question asked before acting, saying what will happen. */
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  /** For the end-to-end tests, on the first button. */
  testId?: string;
}

/**
 * A button that asks first. The question takes the button's place with Cancel focused, so a second
 * Enter cannot confirm by accident; Escape or Cancel puts the button back, focused.
 */
export function ConfirmAction({ label, question, onConfirm, disabled, testId }: ConfirmActionProps) {
  const [asking, setAsking] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);

  // A layout effect: focus moves in the same frame the question appears or goes, never to <body> between.
  useLayoutEffect(() => {
    if (asking) cancelRef.current?.focus();
    else if (returnFocus.current) openerRef.current?.focus();
  }, [asking]);

  const cancel = () => {
    returnFocus.current = true;
    setAsking(false);
  };

  if (!asking) {
    return (
      <button
        type="button"
        class="ghost danger"
        ref={openerRef}
        disabled={disabled}
        data-testid={testId}
        onClick={() => {
          setAsking(true);
        }}
      >
        {label}
      </button>
    );
  }
  return (
    <ConfirmQuestion
      label={label}
      question={question}
      cancelRef={cancelRef}
      onConfirm={() => {
        setAsking(false);
        onConfirm();
      }}
      onCancel={cancel}
    />
  );
}

interface ConfirmQuestionProps {
  label: string;
  question: string;
  cancelRef: RefObject<HTMLButtonElement>;
  onConfirm: () => void;
  onCancel: () => void;
}

/** The question in the button's place: the action again, in red, and Cancel (or Escape). */
function ConfirmQuestion({ label, question, cancelRef, onConfirm, onCancel }: ConfirmQuestionProps) {
  return (
    <div
      class="confirm"
      role="group"
      aria-label={label}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <p>{question}</p>
      <div class="actions">
        <button type="button" class="danger-solid" onClick={onConfirm}>
          {label}
        </button>
        <button type="button" class="ghost" ref={cancelRef} onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </div>
  );
}
