//! Attachment encryption: a random per-file key and the STREAM construction
//! (Hoang, Reyhanitabar, Rogaway, Vizár 2015) as implemented by the `aead` crate's
//! `StreamBE32`, over ChaCha20-Poly1305.
//!
//! The plaintext is cut into chunks of [`CHUNK_SIZE`] bytes; chunk *i* is sealed with the
//! nonce `prefix(7) || i as u32 big-endian || last-flag(1)` and the attachment id as
//! associated data. The final chunk (possibly empty) carries flag 1, so truncation at a
//! chunk boundary, reordering, and moving a file to another attachment id all fail.
//!
//! Both directions are push-style state machines: memory stays at about two chunks
//! whatever the file size, and the caller does the I/O.

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{generic_array::GenericArray, KeyInit as _, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::ids::{AttachmentId, Sha256Hash};
use crate::seal::AttachmentKey;
use crate::{b64, ProtocolError};

/// Plaintext bytes per chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// AEAD tag bytes per chunk.
pub const TAG_SIZE: usize = 16;
/// Ciphertext bytes of a full chunk.
pub const CIPHERTEXT_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;
/// The largest attachment (plaintext) the protocol allows.
pub const MAX_ATTACHMENT_BYTES: u64 = 512 * 1024 * 1024;

/// The ciphertext length of a plaintext of `plain` bytes: one tag per chunk, and one
/// (empty, final) chunk for an empty file.
pub fn ciphertext_len(plain: u64) -> u64 {
    let chunk = CHUNK_SIZE as u64;
    let chunks = if plain == 0 { 1 } else { plain.div_ceil(chunk) };
    plain + chunks * TAG_SIZE as u64
}

/// A per-file key and nonce prefix. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct AttachmentSecret {
    key: [u8; 32],
    nonce_prefix: [u8; 7],
}

impl std::fmt::Debug for AttachmentSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachmentSecret(<redacted>)")
    }
}

impl AttachmentSecret {
    /// A fresh random key and prefix.
    pub fn generate<R: CryptoRng + RngCore>(rng: &mut R) -> Self {
        let mut s = Self {
            key: [0; 32],
            nonce_prefix: [0; 7],
        };
        rng.fill_bytes(&mut s.key);
        rng.fill_bytes(&mut s.nonce_prefix);
        s
    }

    /// From explicit bytes (test vectors, or a stored key).
    pub fn from_parts(key: [u8; 32], nonce_prefix: [u8; 7]) -> Self {
        Self { key, nonce_prefix }
    }

    /// The form carried inside the sealed case payload.
    pub fn to_wire(&self, attachment_id: AttachmentId) -> AttachmentKey {
        AttachmentKey {
            attachment_id,
            key: b64::encode(self.key),
            nonce_prefix: b64::encode(self.nonce_prefix),
        }
    }

    /// Reads the form carried inside the sealed case payload.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] if the key or prefix has the wrong length or encoding.
    pub fn from_wire(wire: &AttachmentKey) -> Result<Self, ProtocolError> {
        Ok(Self {
            key: b64::decode_array("attachment_keys.key", &wire.key)?,
            nonce_prefix: b64::decode_array("attachment_keys.nonce_prefix", &wire.nonce_prefix)?,
        })
    }
}

/// Sizes and hashes of both sides of an attachment, as they go into the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// Plaintext bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: Sha256Hash,
    /// Ciphertext bytes.
    pub ciphertext_size: u64,
    /// SHA-256 of the ciphertext.
    pub ciphertext_sha256: Sha256Hash,
}

struct Hashes {
    plain: Sha256,
    plain_len: u64,
    cipher: Sha256,
    cipher_len: u64,
}

impl Hashes {
    fn new() -> Self {
        Self {
            plain: Sha256::new(),
            plain_len: 0,
            cipher: Sha256::new(),
            cipher_len: 0,
        }
    }

    fn add(&mut self, plain: &[u8], cipher: &[u8]) {
        self.plain.update(plain);
        self.plain_len += plain.len() as u64;
        self.cipher.update(cipher);
        self.cipher_len += cipher.len() as u64;
    }

    fn finish(self) -> Digests {
        Digests {
            size: self.plain_len,
            sha256: Sha256Hash(self.plain.finalize().into()),
            ciphertext_size: self.cipher_len,
            ciphertext_sha256: Sha256Hash(self.cipher.finalize().into()),
        }
    }
}

/// Encrypts an attachment chunk by chunk.
pub struct AttachmentEncryptor {
    stream: EncryptorBE32<ChaCha20Poly1305>,
    aad: Vec<u8>,
    pending: Vec<u8>,
    hashes: Hashes,
}

impl AttachmentEncryptor {
    /// Starts encrypting the attachment `id` with `secret`.
    pub fn new(secret: &AttachmentSecret, id: AttachmentId) -> Self {
        let aead = ChaCha20Poly1305::new(GenericArray::from_slice(&secret.key));
        Self {
            stream: EncryptorBE32::from_aead(aead, GenericArray::from_slice(&secret.nonce_prefix)),
            aad: id.to_string().into_bytes(),
            pending: Vec::with_capacity(CHUNK_SIZE),
            hashes: Hashes::new(),
        }
    }

    /// Feeds plaintext; returns the ciphertext of every chunk now known not to be last.
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`] past [`MAX_ATTACHMENT_BYTES`].
    pub fn update(&mut self, mut data: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        let mut out = Vec::new();
        while !data.is_empty() {
            if self.pending.len() == CHUNK_SIZE {
                // More plaintext follows, so the buffered chunk is not the last one.
                let ct = self
                    .stream
                    .encrypt_next(Payload {
                        msg: &self.pending,
                        aad: &self.aad,
                    })
                    .map_err(|_| too_large(self.hashes.plain_len))?;
                self.hashes.add(&self.pending, &ct);
                out.extend_from_slice(&ct);
                self.pending.clear();
            }
            let take = (CHUNK_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        let total = self.hashes.plain_len + self.pending.len() as u64;
        if total > MAX_ATTACHMENT_BYTES {
            return Err(too_large(total));
        }
        Ok(out)
    }

    /// Seals the final chunk; returns its ciphertext and the digests of the whole file.
    ///
    /// # Errors
    /// Only if the underlying AEAD refuses, which the size limit rules out.
    pub fn finish(mut self) -> Result<(Vec<u8>, Digests), ProtocolError> {
        let pending = std::mem::take(&mut self.pending);
        let ct = self
            .stream
            .encrypt_last(Payload {
                msg: &pending,
                aad: &self.aad,
            })
            .map_err(|_| too_large(self.hashes.plain_len))?;
        self.hashes.add(&pending, &ct);
        Ok((ct, self.hashes.finish()))
    }
}

/// Decrypts an attachment chunk by chunk, detecting truncation, reordering and tampering.
pub struct AttachmentDecryptor {
    stream: DecryptorBE32<ChaCha20Poly1305>,
    aad: Vec<u8>,
    pending: Vec<u8>,
    hashes: Hashes,
}

impl AttachmentDecryptor {
    /// Starts decrypting the attachment `id` with `secret`.
    pub fn new(secret: &AttachmentSecret, id: AttachmentId) -> Self {
        let aead = ChaCha20Poly1305::new(GenericArray::from_slice(&secret.key));
        Self {
            stream: DecryptorBE32::from_aead(aead, GenericArray::from_slice(&secret.nonce_prefix)),
            aad: id.to_string().into_bytes(),
            pending: Vec::with_capacity(CIPHERTEXT_CHUNK_SIZE),
            hashes: Hashes::new(),
        }
    }

    /// Feeds ciphertext; returns the plaintext of every chunk now known not to be last.
    /// Plaintext is released only after its chunk authenticated.
    ///
    /// # Errors
    /// [`ProtocolError::DecryptionFailed`] as soon as a chunk does not authenticate.
    pub fn update(&mut self, mut data: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        let mut out = Vec::new();
        while !data.is_empty() {
            if self.pending.len() == CIPHERTEXT_CHUNK_SIZE {
                let pt = self
                    .stream
                    .decrypt_next(Payload {
                        msg: &self.pending,
                        aad: &self.aad,
                    })
                    .map_err(|_| ProtocolError::DecryptionFailed)?;
                self.hashes.add(&pt, &self.pending);
                out.extend_from_slice(&pt);
                self.pending.clear();
            }
            let take = (CIPHERTEXT_CHUNK_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(out)
    }

    /// Opens the final chunk; returns its plaintext and the digests of the whole file.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`] when the data ends inside a tag;
    /// [`ProtocolError::DecryptionFailed`] when the final chunk does not authenticate as
    /// final (which includes truncation at a chunk boundary).
    pub fn finish(mut self) -> Result<(Vec<u8>, Digests), ProtocolError> {
        if self.pending.len() < TAG_SIZE {
            return Err(ProtocolError::Truncated);
        }
        let pending = std::mem::take(&mut self.pending);
        let pt = self
            .stream
            .decrypt_last(Payload {
                msg: &pending,
                aad: &self.aad,
            })
            .map_err(|_| ProtocolError::DecryptionFailed)?;
        self.hashes.add(&pt, &pending);
        Ok((pt, self.hashes.finish()))
    }
}

fn too_large(actual: u64) -> ProtocolError {
    ProtocolError::TooLarge {
        what: "attachment",
        actual: usize::try_from(actual).unwrap_or(usize::MAX),
        limit: MAX_ATTACHMENT_BYTES as usize,
    }
}

/// Encrypts a whole in-memory attachment (small files, tests, vectors).
///
/// # Errors
/// As [`AttachmentEncryptor::update`].
pub fn encrypt_all(
    secret: &AttachmentSecret,
    id: AttachmentId,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Digests), ProtocolError> {
    let mut enc = AttachmentEncryptor::new(secret, id);
    let mut out = enc.update(plaintext)?;
    let (tail, digests) = enc.finish()?;
    out.extend_from_slice(&tail);
    Ok((out, digests))
}

/// Decrypts a whole in-memory attachment.
///
/// # Errors
/// As [`AttachmentDecryptor::finish`].
pub fn decrypt_all(
    secret: &AttachmentSecret,
    id: AttachmentId,
    ciphertext: &[u8],
) -> Result<(Vec<u8>, Digests), ProtocolError> {
    let mut dec = AttachmentDecryptor::new(secret, id);
    let mut out = dec.update(ciphertext)?;
    let (tail, digests) = dec.finish()?;
    out.extend_from_slice(&tail);
    Ok((out, digests))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> AttachmentId {
        "0192f3a4-5b6c-7d8e-9f00-112233445566"
            .parse()
            .expect("valid id")
    }

    fn secret() -> AttachmentSecret {
        AttachmentSecret::from_parts([1; 32], [2; 7])
    }

    #[test]
    fn round_trip_at_every_chunk_boundary() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let (ct, d) = encrypt_all(&secret(), id(), &plain).expect("encrypts");
            assert_eq!(ct.len() as u64, ciphertext_len(len as u64), "len {len}");
            assert_eq!(d.ciphertext_size, ct.len() as u64);
            assert_eq!(d.sha256, Sha256Hash::of(&plain));
            let (back, d2) = decrypt_all(&secret(), id(), &ct).expect("decrypts");
            assert_eq!(back, plain);
            assert_eq!(d, d2);
        }
    }

    #[test]
    fn feeding_in_odd_pieces_gives_the_same_ciphertext() {
        let plain = vec![9u8; 2 * CHUNK_SIZE + 17];
        let (whole, _) = encrypt_all(&secret(), id(), &plain).expect("encrypts");
        let mut enc = AttachmentEncryptor::new(&secret(), id());
        let mut pieces = Vec::new();
        for piece in plain.chunks(1000) {
            pieces.extend(enc.update(piece).expect("update"));
        }
        pieces.extend(enc.finish().expect("finish").0);
        assert_eq!(pieces, whole);
    }

    #[test]
    fn truncation_at_a_chunk_boundary_is_detected() {
        let plain = vec![5u8; 2 * CHUNK_SIZE + 10];
        let (ct, _) = encrypt_all(&secret(), id(), &plain).expect("encrypts");
        let cut = &ct[..2 * CIPHERTEXT_CHUNK_SIZE];
        assert_eq!(
            decrypt_all(&secret(), id(), cut).err(),
            Some(ProtocolError::DecryptionFailed)
        );
        assert_eq!(
            decrypt_all(&secret(), id(), &[]).err(),
            Some(ProtocolError::Truncated)
        );
    }

    #[test]
    fn swapped_chunks_and_another_attachment_id_are_detected() {
        let plain = vec![5u8; 3 * CHUNK_SIZE];
        let (ct, _) = encrypt_all(&secret(), id(), &plain).expect("encrypts");
        let mut swapped = ct.clone();
        let (a, b) = swapped.split_at_mut(CIPHERTEXT_CHUNK_SIZE);
        a.swap_with_slice(&mut b[..CIPHERTEXT_CHUNK_SIZE]);
        assert!(decrypt_all(&secret(), id(), &swapped).is_err());
        let other: AttachmentId = "0192f3a4-5b6c-7d8e-9f00-112233445567".parse().expect("id");
        assert!(decrypt_all(&secret(), other, &ct).is_err());
    }
}
