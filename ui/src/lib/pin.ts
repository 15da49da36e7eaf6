// The PIN rules of kit-core (keyslots::check_pin), checked before add_clerk so the clerk
// sees the problem at once; the Rust side checks again.
import type { MessageKey } from "../i18n/messages";

export function pinProblem(pin: string, repeat: string): MessageKey | null {
  const bytes = Array.from(new TextEncoder().encode(pin));
  if (bytes.length < 6) return "clerk.pinTooShort";
  if (bytes.every((b) => b === bytes[0])) return "clerk.pinWeak";
  const asc = bytes.every((b, i) => i === 0 || b === ((bytes[i - 1] + 1) & 0xff));
  const desc = bytes.every((b, i) => i === 0 || bytes[i - 1] === ((b + 1) & 0xff));
  if (asc || desc) return "clerk.pinWeak";
  if (pin !== repeat) return "clerk.pinMismatch";
  return null;
}
