// The end of a step's form: its error (announced), the submit button with its busy wording, and Back.
export function FormFooter({ errorId, error, busy, submitLabel, busyLabel, onBack }: { errorId: string; error: string | null; busy: boolean; submitLabel: string; busyLabel: string; onBack: () => void }) {
  return (
    <>
      {error && (
        <p id={errorId} className="field__error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        <button type="button" className="button button--ghost" onClick={onBack}>
          Back
        </button>
      </div>
    </>
  );
}
