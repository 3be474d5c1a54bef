// The inline "are you sure?" of a destructive row action: a question, Remove and Cancel.
export function ConfirmRemove({ question, onRemove, onCancel }: { question: string; onRemove: () => void; onCancel: () => void }) {
  return (
    <span className="root-row__confirm">
      <span className="muted">{question}</span>
      <button type="button" className="button button--danger button--small" onClick={onRemove}>
        Remove
      </button>
      <button type="button" className="button button--small" onClick={onCancel}>
        Cancel
      </button>
    </span>
  );
}
