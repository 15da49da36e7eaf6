import { useId, useState, type ReactNode } from "react";

/** A real, focusable <input type=file> (visually hidden, reachable by WebDriver send_keys)
 * with a styled label as button and a drag-and-drop area around it. */
export function FileDrop({
  testId,
  accept,
  chooseLabel,
  dropLabel,
  disabled,
  onFiles,
  describedBy,
  children,
}: {
  testId: string;
  accept?: string;
  chooseLabel: string;
  dropLabel: string;
  disabled?: boolean;
  onFiles: (files: File[]) => void;
  describedBy?: string;
  children?: ReactNode;
}) {
  const id = useId();
  const [over, setOver] = useState(false);
  return (
    <div
      className={`dropzone${over ? " dropzone--over" : ""}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (!disabled && e.dataTransfer.files.length) onFiles(Array.from(e.dataTransfer.files));
      }}
    >
      <input
        id={id}
        type="file"
        className="visually-hidden file-input"
        data-testid={testId}
        accept={accept}
        disabled={disabled}
        aria-describedby={describedBy}
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          if (files.length) onFiles(files);
        }}
      />
      <label htmlFor={id} className="btn btn--secondary file-label">
        {chooseLabel}
      </label>
      <span className="dropzone-hint">{dropLabel}</span>
      {children}
    </div>
  );
}
