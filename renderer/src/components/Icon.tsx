// A handful of line icons drawn inline (24×24, currentColor), so there is no icon font to load.
const PATHS = {
  search: 'M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zm9 16-4.2-4.2',
  folder: 'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
  progress: 'M4 12a8 8 0 1 0 8-8M12 8v4l3 2',
  settings: 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM4 12h2m12 0h2M12 4v2m0 12v2M6.3 6.3l1.4 1.4m8.6 8.6 1.4 1.4m0-11.4-1.4 1.4m-8.6 8.6-1.4 1.4',
  image: 'M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15 9h.01',
  close: 'M6 6l12 12M18 6 6 18',
  open: 'M14 4h6v6M20 4l-9 9M18 14v5H5V6h5',
  reveal: 'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2zM12 11v5m-2-2 2 2 2-2',
  copy: 'M9 9h10v10H9zM5 15V5h10',
  similar: 'M12 3l2.5 5.5L20 11l-5.5 2.5L12 19l-2.5-5.5L4 11l5.5-2.5z',
  pause: 'M8 5v14M16 5v14',
  play: 'M7 5l12 7-12 7z',
  warning: 'M12 4 2.5 20h19zM12 10v4m0 3h.01',
  video: 'M4 6h11v12H4zM15 10l5-3v10l-5-3',
  pdf: 'M6 3h8l4 4v14H6zM14 3v4h4',
  text: 'M6 3h8l4 4v14H6zM9 12h6M9 16h6M9 8h2',
  document: 'M6 3h8l4 4v14H6zM9 12h6M9 16h4',
  plus: 'M12 5v14M5 12h14',
  trash: 'M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13',
  chevron: 'M8 10l4 4 4-4',
  retry: 'M4 12a8 8 0 1 0 2.3-5.7M4 4v5h5',
  check: 'M5 12l5 5 9-10',
  drive: 'M3 14h18v5H3zM5 14l2-8h10l2 8M7 17h.01',
  download: 'M12 4v11m-4-4 4 4 4-4M5 20h14',
  cloud: 'M7 18a4 4 0 0 1-.5-7.97A6 6 0 0 1 18 9a4.5 4.5 0 0 1-.5 9z',
  chip: 'M8 8h8v8H8zM10 4v4m4-4v4m-4 8v4m4-4v4M4 10h4m-4 4h4m8-4h4m-4 4h4',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 16, label }: { name: IconName; size?: number; label?: string }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.75}
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
