// The PIN rules of kit-core (keyslots::check_secret), checked before add_clerk so the
// clerk sees the problem at once; the Rust side checks again. Without a TPM (`tpm` false)
// a passphrase of at least 12 characters, not only digits, is required.
import type { MessageKey } from "../i18n/messages";

export const MIN_PASSPHRASE_CHARS = 12;

export function pinProblem(pin: string, repeat: string, tpm = true): MessageKey | null {
  const bytes = Array.from(new TextEncoder().encode(pin));
  if (bytes.length < 6) return "clerk.pinTooShort";
  if (bytes.every((b) => b === bytes[0])) return "clerk.pinWeak";
  const asc = bytes.every((b, i) => i === 0 || b === ((bytes[i - 1] + 1) & 0xff));
  const desc = bytes.every((b, i) => i === 0 || bytes[i - 1] === ((b + 1) & 0xff));
  if (asc || desc) return "clerk.pinWeak";
  if (!tpm && (Array.from(pin).length < MIN_PASSPHRASE_CHARS || /^[0-9]+$/.test(pin))) {
    return "clerk.passphraseNeeded";
  }
  if (pin !== repeat) return "clerk.pinMismatch";
  return null;
}
