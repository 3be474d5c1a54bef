// A path in a list, cut in the middle only where the room runs out (lib/middle-ellipsis.ts): the
// folders give way first, then the middle of the file name; the name's end and extension stay.
// The whole path is in the tooltip.
import { middleCutParts } from '../lib/middle-ellipsis.ts';

/** A space at either side of the cut ends a box, where it would collapse: a no-break space stays. */
const keepEdgeSpace = (text: string) => text.replace(/^ | $/g, '\u00a0');

export function MiddlePath({ path }: { path: string }) {
  const { folder, sep, nameHead, nameTail } = middleCutParts(path);
  return (
    <span className="middle-path" title={path}>
      {folder && <span className="middle-path__dir">{folder}</span>}
      <span className="middle-path__name">
        {(sep || nameHead) && (
          <span className="middle-path__head">
            {sep}
            {keepEdgeSpace(nameHead)}
          </span>
        )}
        <span className="middle-path__tail">{keepEdgeSpace(nameTail)}</span>
      </span>
    </span>
  );
}
