// Client-side checks before a file goes to attach_file (the Rust side checks again).
import type { AttachmentSpecDto } from "../api/types";

export type FileProblem =
  | { kind: "type"; got: string; allowed: string[] }
  | { kind: "size"; size: number; max: number }
  | { kind: "empty" };

const EXT_TYPES: Record<string, string> = {
  pdf: "application/pdf",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  tif: "image/tiff",
  tiff: "image/tiff",
};

/** The file's media type; from the extension when the platform gives none. */
export function mediaTypeOf(file: { name: string; type: string }): string {
  if (file.type) return file.type;
  const ext = file.name.toLowerCase().split(".").pop() ?? "";
  return EXT_TYPES[ext] ?? "application/octet-stream";
}

export function checkFile(
  file: { name: string; type: string; size: number },
  spec: Pick<AttachmentSpecDto, "media_types" | "max_bytes">,
): FileProblem | null {
  const type = mediaTypeOf(file);
  if (!spec.media_types.includes(type)) return { kind: "type", got: type, allowed: spec.media_types };
  if (file.size === 0) return { kind: "empty" };
  if (file.size > spec.max_bytes) return { kind: "size", size: file.size, max: spec.max_bytes };
  return null;
}

/** Short names for media types, for "erlaubt: PDF, JPEG, PNG". */
export function typeName(t: string): string {
  const m: Record<string, string> = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
  };
  return m[t] ?? t;
}

/** The `accept` attribute for a spec's file input. */
export function acceptAttr(types: string[]): string {
  const exts = Object.entries(EXT_TYPES)
    .filter(([, t]) => types.includes(t))
    .map(([e]) => `.${e}`);
  return [...types, ...exts].join(",");
}

// The kit keeps a picked file's name (sanitized) with the draft and seals it into the
// case; files the kit made itself have none. Names given in this session are also kept
// in memory (the signed printout's), the rest show type and hash prefix.
const names = new Map<string, string>();
export function rememberName(attachmentId: string, fileName: string): void {
  names.set(attachmentId, fileName);
}
export function attachmentName(a: { id: string; media_type: string; sha256?: string; file_name?: string | null }): string {
  return a.file_name ?? names.get(a.id) ?? `${typeName(a.media_type)}${a.sha256 ? ` · ${a.sha256.slice(0, 8)}` : ""}`;
}
