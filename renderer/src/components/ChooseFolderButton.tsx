// "Choose…": the system's folder chooser, in the desktop app only (the page in a browser cannot
// open one, so there the path field is all there is). Fills the field it sits beside.
import { useState } from 'react';
import { useController, useServices } from '../state/context.tsx';

export function ChooseFolderButton({ title, onChosen }: { title: string; onChosen: (path: string) => void }) {
  const { desktop } = useServices();
  const controller = useController();
  const [busy, setBusy] = useState(false);
  if (!desktop) return null;
  return (
    <button
      type="button"
      className="button"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        const chosen = await controller.pickFolder(title);
        setBusy(false);
        if (chosen) onChosen(chosen);
      }}
    >
      Choose…
    </button>
  );
}
