// Small inline SVG icons, drawn for Fieldkit on a 16 × 16 grid. They replace emoji and
// dingbats, which the kit's laptops (no emoji font) show as empty boxes. An icon never
// carries meaning alone: it is hidden from assistive technology and the words next to it
// say what it means. Drawn with `currentColor`, so it follows the text colour, including
// forced colours (Windows high contrast), and `1em` square, so it follows the font size.
import type { ReactElement } from "react";

/** A dot drawn as a small filled circle (a stroke of zero length is not drawn everywhere). */
const dot = (cx: number, cy: number) => <circle cx={cx} cy={cy} r={1} fill="currentColor" stroke="none" />;

const SHAPES = {
  /** Done, saved, attached. */
  check: <path d="M2.5 8.5l3.5 3.5 7.5-8" />,
  /** Completely transferred (the record and every attachment). */
  "check-double": <path d="M1 8.5l3 3 6.5-7.5M7 11l.5.5 7.5-8" />,
  /** Refused. */
  cross: <path d="M3.5 3.5l9 9M12.5 3.5l-9 9" />,
  warning: (
    <>
      <path d="M8 1.75l6.75 12.5H1.25z" />
      <path d="M8 6v3.75" />
      {dot(8, 12)}
    </>
  ),
  info: (
    <>
      <circle cx={8} cy={8} r={6.5} />
      <path d="M8 7.25v4.25" />
      {dot(8, 4.75)}
    </>
  ),
  /** Not possible (a prohibition sign). */
  blocked: (
    <>
      <circle cx={8} cy={8} r={6.5} />
      <path d="M3.5 3.5l9 9" />
    </>
  ),
  lock: (
    <>
      <rect x={2.75} y={7} width={10.5} height={7.5} rx={1.5} />
      <path d="M5 7V5a3 3 0 0 1 6 0v2" />
    </>
  ),
  print: (
    <>
      <path d="M4.5 6V1.75h7V6" />
      <path d="M4.5 12H2.25a.75.75 0 0 1-.75-.75v-4.5A.75.75 0 0 1 2.25 6h11.5a.75.75 0 0 1 .75.75v4.5a.75.75 0 0 1-.75.75H11.5" />
      <path d="M4.5 9.5h7v4.75h-7z" />
    </>
  ),
  keyboard: (
    <>
      <rect x={1} y={4} width={14} height={8.5} rx={1.5} />
      <path d="M3.75 6.75h1M6.25 6.75h1M8.75 6.75h1M11.25 6.75h1M5 9.75h6" />
    </>
  ),
  /** Waiting. */
  hourglass: (
    <>
      <path d="M3.5 1.75h9M3.5 14.25h9" />
      <path d="M4.75 1.75h6.5L8 8zM4.75 14.25h6.5L8 8z" />
    </>
  ),
  /** Deleted. */
  trash: (
    <>
      <path d="M2.5 4h11M6 4V2.25h4V4" />
      <path d="M4 4l.75 9.75h6.5L12 4" />
      <path d="M6.75 6.75v4.5M9.25 6.75v4.5" />
    </>
  ),
  /** Synchronise: two arrows chasing round a circle. */
  sync: (
    <>
      <path d="M13.5 8a5.5 5.5 0 0 1-9.4 3.9M2.5 8a5.5 5.5 0 0 1 9.4-3.9" />
      <path d="M12 1.5v2.75H9.25M4 14.5v-2.75h2.75" />
    </>
  ),
  paperclip: (
    <path d="M10.5 5l-4.75 4.75a1.25 1.25 0 0 0 1.77 1.77L13 6a2.75 2.75 0 0 0-3.9-3.9L3.5 7.75a4.25 4.25 0 0 0 6 6L14 9.25" />
  ),
  /** Reachable (a filled dot). */
  "dot-full": <circle cx={8} cy={8} r={4.25} fill="currentColor" />,
  /** Not reachable (a ring). */
  "dot-empty": <circle cx={8} cy={8} r={4.25} />,
  /** Not known yet (a dashed ring). */
  "dot-dashed": <circle cx={8} cy={8} r={4.25} strokeDasharray="2.2 1.8" />,
  /** A state the UI does not know. */
  question: (
    <>
      <path d="M5.5 5.75a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.45v.5" />
      {dot(8, 12.75)}
    </>
  ),
} satisfies Record<string, ReactElement>;

export type IconName = keyof typeof SHAPES;
export const ICON_NAMES = Object.keys(SHAPES) as IconName[];

/** `<Icon name="print" />`: decorative; put the words beside it. */
export function Icon({ name, className }: { name: IconName; className?: string }) {
  return (
    <svg
      className={className ? `icon ${className}` : "icon"}
      data-icon={name}
      viewBox="0 0 16 16"
      width="1em"
      height="1em"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.75}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {SHAPES[name]}
    </svg>
  );
}
