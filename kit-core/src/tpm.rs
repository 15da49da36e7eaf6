//! Binding a clerk's key slot to the device's TPM 2.0, so that a copied kit folder
//! cannot be attacked offline: part of the slot's key is a random secret sealed in the
//! TPM, released only to the PIN-derived authorization value, and every wrong value
//! counts against the TPM's own dictionary-attack lockout — a counter no file edit
//! resets.
//!
//! [`SlotSealer`] is the seam: [`linux::TssSealer`] talks to a TPM through the TSS2
//! libraries (`/dev/tpmrm0`, or `swtpm` in the tests); a Windows implementation
//! (Platform Crypto Provider) can follow behind the same trait.

use zeroize::Zeroizing;

use crate::KitError;

/// Where the kit looks for a TPM: `FIELDKIT_TPM_TCTI` (a TSS2 TCTI string such as
/// `device:/dev/tpmrm0` or `swtpm:host=127.0.0.1,port=2321`, or `none`), else the
/// kernel's resource manager `/dev/tpmrm0` when this user may open it.
pub const TCTI_ENV: &str = "FIELDKIT_TPM_TCTI";

/// Which TPM a kit uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TpmChoice {
    /// Decide from [`TCTI_ENV`] and the device, when a slot needs it.
    FromEnvironment,
    /// This TCTI.
    Tcti(String),
    /// No TPM: slots are Argon2id only.
    None,
}

/// Seals a secret to a TPM under an authorization value, and unseals it.
pub trait SlotSealer {
    /// Seals `secret`; only `auth` unseals it, on this TPM only. The answer is opaque
    /// bytes for the slot file.
    ///
    /// # Errors
    /// [`KitError::Tpm`] when the TPM fails.
    fn seal(&mut self, auth: &[u8; 32], secret: &[u8; 32]) -> Result<Vec<u8>, KitError>;

    /// Unseals what [`SlotSealer::seal`] gave.
    ///
    /// # Errors
    /// [`KitError::WrongSecret`] (attempts 0: the TPM counts) for a wrong `auth`;
    /// [`KitError::TooManyAttempts`] while the TPM is locked out;
    /// [`KitError::Tpm`] when the sealed bytes do not belong to this TPM or it fails.
    fn unseal(&mut self, sealed: &[u8], auth: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>, KitError>;
}

impl TpmChoice {
    /// The TCTI to use, if any.
    pub fn tcti(&self) -> Option<String> {
        match self {
            Self::Tcti(t) => Some(t.clone()),
            Self::None => None,
            Self::FromEnvironment => match std::env::var(TCTI_ENV) {
                Ok(v) if v.trim().eq_ignore_ascii_case("none") || v.trim().is_empty() => None,
                Ok(v) => Some(v.trim().to_owned()),
                Err(_) => device_tcti(),
            },
        }
    }

    /// Connects to the TPM, if one is chosen.
    ///
    /// # Errors
    /// [`KitError::Tpm`] when one was named but cannot be reached.
    pub fn open(&self) -> Result<Option<Box<dyn SlotSealer>>, KitError> {
        match self.tcti() {
            None => Ok(None),
            Some(tcti) => open_tcti(&tcti).map(Some),
        }
    }
}

#[cfg(all(target_os = "linux", feature = "tpm"))]
fn device_tcti() -> Option<String> {
    let device = "/dev/tpmrm0";
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(device)
        .ok()
        .map(|_| format!("device:{device}"))
}

#[cfg(not(all(target_os = "linux", feature = "tpm")))]
fn device_tcti() -> Option<String> {
    None
}

#[cfg(all(target_os = "linux", feature = "tpm"))]
fn open_tcti(tcti: &str) -> Result<Box<dyn SlotSealer>, KitError> {
    Ok(Box::new(linux::TssSealer::connect(tcti)?))
}

#[cfg(not(all(target_os = "linux", feature = "tpm")))]
fn open_tcti(tcti: &str) -> Result<Box<dyn SlotSealer>, KitError> {
    Err(KitError::Tpm(format!(
        "{tcti}: this build has no TPM support on this platform"
    )))
}

/// The TPM through the TSS2 Enhanced System API (`tss-esapi`, Debian `libtss2-dev`).
#[cfg(all(target_os = "linux", feature = "tpm"))]
pub mod linux {
    use std::convert::TryFrom as _;
    use std::str::FromStr as _;

    use tss_esapi::attributes::ObjectAttributesBuilder;
    use tss_esapi::constants::response_code::Tss2ResponseCodeKind;
    use tss_esapi::handles::KeyHandle;
    use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
    use tss_esapi::interface_types::resource_handles::Hierarchy;
    use tss_esapi::structures::{
        Auth, Digest, KeyedHashScheme, Private, Public, PublicBuilder, PublicKeyedHashParameters,
        SensitiveData, SymmetricCipherParameters, SymmetricDefinitionObject,
    };
    use tss_esapi::traits::{Marshall as _, UnMarshall as _};
    use tss_esapi::{Context, TctiNameConf};
    use zeroize::Zeroizing;

    use super::SlotSealer;
    use crate::KitError;

    /// A connection to one TPM and the primary storage key the slots are sealed under
    /// (derived from the owner seed, so it is the same key every time).
    pub struct TssSealer {
        context: Context,
        primary: KeyHandle,
    }

    fn tpm_error(what: &str) -> impl FnOnce(tss_esapi::Error) -> KitError + '_ {
        move |e| KitError::Tpm(format!("{what}: {e}"))
    }

    impl TssSealer {
        /// Connects through `tcti` and creates the primary key.
        ///
        /// # Errors
        /// [`KitError::Tpm`] when the TPM cannot be reached or refuses.
        pub fn connect(tcti: &str) -> Result<Self, KitError> {
            let conf = TctiNameConf::from_str(tcti)
                .map_err(|e| KitError::Tpm(format!("TCTI {tcti}: {e}")))?;
            let mut context =
                Context::new(conf).map_err(|e| KitError::Tpm(format!("TPM at {tcti}: {e}")))?;
            let attributes = ObjectAttributesBuilder::new()
                .with_fixed_tpm(true)
                .with_fixed_parent(true)
                .with_sensitive_data_origin(true)
                .with_user_with_auth(true)
                .with_decrypt(true)
                .with_restricted(true)
                .build()
                .map_err(tpm_error("primary key attributes"))?;
            let template = PublicBuilder::new()
                .with_public_algorithm(PublicAlgorithm::SymCipher)
                .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
                .with_object_attributes(attributes)
                .with_symmetric_cipher_parameters(SymmetricCipherParameters::new(
                    SymmetricDefinitionObject::AES_128_CFB,
                ))
                .with_symmetric_cipher_unique_identifier(Digest::default())
                .build()
                .map_err(tpm_error("primary key template"))?;
            let primary = context
                .execute_with_nullauth_session(|ctx| {
                    ctx.create_primary(Hierarchy::Owner, template, None, None, None, None)
                })
                .map_err(tpm_error("creating the primary key"))?
                .key_handle;
            Ok(Self { context, primary })
        }
    }

    impl Drop for TssSealer {
        fn drop(&mut self) {
            let _ = self.context.flush_context(self.primary.into());
        }
    }

    fn sealed_object_template() -> Result<Public, KitError> {
        // Dictionary-attack protected (no `no_da`): every wrong authorization counts.
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            .with_user_with_auth(true)
            .build()
            .map_err(tpm_error("sealed object attributes"))?;
        PublicBuilder::new()
            .with_public_algorithm(PublicAlgorithm::KeyedHash)
            .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
            .with_object_attributes(attributes)
            .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
            .with_keyed_hash_unique_identifier(Digest::default())
            .build()
            .map_err(tpm_error("sealed object template"))
    }

    /// The sealed bytes: u16 big-endian length of the private part, the private part,
    /// the marshalled public part.
    fn encode(private: &Private, public: &Public) -> Result<Vec<u8>, KitError> {
        let private = private.value();
        let public = public.marshall().map_err(tpm_error("public part"))?;
        let len = u16::try_from(private.len())
            .map_err(|_| KitError::Tpm("private part too long".into()))?;
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(private);
        out.extend_from_slice(&public);
        Ok(out)
    }

    fn decode(sealed: &[u8]) -> Result<(Private, Public), KitError> {
        let bad = || KitError::Corrupted("the TPM-sealed part of a key slot".into());
        let (len, rest) = sealed.split_at_checked(2).ok_or_else(bad)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (private, public) = rest.split_at_checked(len).ok_or_else(bad)?;
        let private = Private::try_from(private.to_vec()).map_err(|_| bad())?;
        let public = Public::unmarshall(public).map_err(|_| bad())?;
        Ok((private, public))
    }

    /// The TPM's (or resource manager's) response code kind, for a TSS error.
    fn response_kind(e: &tss_esapi::Error) -> Option<Tss2ResponseCodeKind> {
        match e {
            tss_esapi::Error::Tss2Error(rc) => rc.kind(),
            tss_esapi::Error::WrapperError(_) => None,
        }
    }

    impl SlotSealer for TssSealer {
        fn seal(&mut self, auth: &[u8; 32], secret: &[u8; 32]) -> Result<Vec<u8>, KitError> {
            let auth = Auth::try_from(auth.to_vec()).map_err(tpm_error("authorization"))?;
            let data =
                SensitiveData::try_from(secret.to_vec()).map_err(tpm_error("sealed data"))?;
            let template = sealed_object_template()?;
            let primary = self.primary;
            let created = self
                .context
                .execute_with_nullauth_session(|ctx| {
                    ctx.create(primary, template, Some(auth), Some(data), None, None)
                })
                .map_err(tpm_error("sealing"))?;
            encode(&created.out_private, &created.out_public)
        }

        fn unseal(
            &mut self,
            sealed: &[u8],
            auth: &[u8; 32],
        ) -> Result<Zeroizing<Vec<u8>>, KitError> {
            let (private, public) = decode(sealed)?;
            let primary = self.primary;
            let object = self
                .context
                .execute_with_nullauth_session(|ctx| ctx.load(primary, private, public))
                .map_err(|e| match response_kind(&e) {
                    // In dictionary-attack lockout the TPM refuses even to load the
                    // object: the PIN waits like any locked-out attempt.
                    Some(Tss2ResponseCodeKind::Lockout) => KitError::TooManyAttempts {
                        retry_after_secs: self.recovery_secs(),
                    },
                    _ => KitError::Tpm(format!(
                        "the key slot was sealed by another TPM (a copied kit folder?) or is damaged: {e}"
                    )),
                })?;
            let auth = Auth::try_from(auth.to_vec()).map_err(tpm_error("authorization"))?;
            let result = self
                .context
                .tr_set_auth(object.into(), auth)
                .and_then(|()| {
                    self.context
                        .execute_with_nullauth_session(|ctx| ctx.unseal(object.into()))
                });
            let _ = self.context.flush_context(object.into());
            match result {
                Ok(data) => Ok(Zeroizing::new(data.value().to_vec())),
                Err(e) => Err(match response_kind(&e) {
                    Some(Tss2ResponseCodeKind::AuthFail | Tss2ResponseCodeKind::BadAuth) => {
                        KitError::WrongSecret { attempts: 0 }
                    }
                    Some(Tss2ResponseCodeKind::Lockout) => KitError::TooManyAttempts {
                        retry_after_secs: self.recovery_secs(),
                    },
                    _ => KitError::Tpm(format!("unsealing: {e}")),
                }),
            }
        }
    }

    impl TssSealer {
        /// Seconds until the TPM forgives one failure (its `recoveryTime`), as the wait
        /// to show while it is locked out.
        fn recovery_secs(&mut self) -> u64 {
            self.context
                .get_tpm_property(tss_esapi::constants::PropertyTag::LockoutInterval)
                .ok()
                .flatten()
                .map_or(0, u64::from)
        }
    }
}
