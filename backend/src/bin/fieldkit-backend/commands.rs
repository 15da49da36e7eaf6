//! `fieldkit-backend admin …`: runs one admin command and prints its result, as text
//! for people or as JSON (`--json`) for scripts.

use fieldkit_backend::admin::backup::{self, KIT_RETENTION_DAYS};
use fieldkit_backend::admin::kit::{Out, ProvisionArgs};
use fieldkit_backend::admin::{self, authority, catalog, demo, trust, user, Admin, AdminError};
use fieldkit_backend::blobs::BlobStore;

use super::{
    print, read_password, AdminCommand, AuthorityCommand, CatalogCommand, KitCommand, OnOff,
    ServerKeyCommand, TlsPinCommand, UserCommand,
};

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

pub async fn run(
    admin: &Admin,
    command: AdminCommand,
    json: bool,
    ttl_hours: u32,
) -> Result<(), AdminError> {
    match command {
        AdminCommand::GenerateMasterKey
        | AdminCommand::Backup { .. }
        | AdminCommand::Restore { .. }
        | AdminCommand::Fsck => Ok(()),
        AdminCommand::Authority(AuthorityCommand::Add {
            id,
            name,
            ars,
            kind,
        }) => {
            let new = authority::new_authority(&id, &name, ars.as_deref(), kind)?;
            let key_id = authority::add(admin, &new).await?;
            let result = serde_json::json!({"id": id, "hpke_key_id": key_id});
            print(json, &result, |_| {
                format!("authority {id} added (HPKE key {key_id})")
            });
            Ok(())
        }
        AdminCommand::Authority(AuthorityCommand::List) => {
            let list = authority::list(admin).await?;
            print(json, &list, |list| {
                list.iter()
                    .map(|a| {
                        format!(
                            "{}\t{}\t{:?}\tars {}\tkey {}\t({} retired)",
                            a.id,
                            a.name,
                            a.kind,
                            or_dash(a.ars.as_deref()),
                            or_dash(a.current_key_id.as_deref()),
                            a.retired_key_ids.len()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        AdminCommand::Authority(AuthorityCommand::RotateKey { id }) => {
            let key_id = authority::rotate_key(admin, &id).await?;
            let result = serde_json::json!({"id": id, "hpke_key_id": key_id});
            print(json, &result, |_| {
                format!(
                    "authority {id}: new current HPKE key {key_id}; publish a new catalog \
                     version so that kits seal to it"
                )
            });
            Ok(())
        }
        AdminCommand::User(UserCommand::Add {
            authority,
            login,
            role,
        }) => {
            let password = read_password()?;
            let first = user::FirstLogin::SetOwnPassword;
            user::add(admin, &authority, &login, role, &password, first).await?;
            let result = serde_json::json!({"login": login, "role": role});
            print(json, &result, |_| {
                format!(
                    "user {login} added ({}); the password only lets them set their own \
                     at the first login",
                    role.as_str()
                )
            });
            Ok(())
        }
        AdminCommand::User(UserCommand::SetRole { login, role }) => {
            let old = user::set_role(admin, &login, role).await?;
            let result = serde_json::json!({"login": login, "role": role, "previous_role": old});
            print(json, &result, |_| {
                format!("user {login}: role {} → {}", old.as_str(), role.as_str())
            });
            Ok(())
        }
        AdminCommand::Authority(AuthorityCommand::FourEyes { id, rule }) => {
            let on = rule == OnOff::On;
            user::set_four_eyes(admin, &id, on).await?;
            let result = serde_json::json!({"id": id, "four_eyes": on});
            print(json, &result, |_| {
                format!(
                    "authority {id}: four-eyes confirmation of user changes {}",
                    if on { "on" } else { "off" }
                )
            });
            Ok(())
        }
        AdminCommand::User(UserCommand::List) => {
            let list = user::list(admin).await?;
            print(json, &list, |list| {
                list.iter()
                    .map(|u| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            u.login,
                            u.authority_id,
                            u.role.as_str(),
                            if u.disabled { "disabled" } else { "enabled" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        AdminCommand::User(UserCommand::Disable { login }) => {
            user::disable(admin, &login).await?;
            print(
                json,
                &serde_json::json!({"login": login, "disabled": true}),
                |_| format!("user {login} disabled"),
            );
            Ok(())
        }
        AdminCommand::Kit(KitCommand::Provision {
            authority,
            name,
            backend_url,
            tls_cert,
            insecure_allow_plain_http,
            out: out_file,
            valid_hours,
        }) => {
            let hours = valid_hours.unwrap_or(ttl_hours).max(1);
            let provisioned = admin::kit::provision(
                admin,
                ProvisionArgs {
                    authority: &authority,
                    name: &name,
                    backend_url: &backend_url,
                    tls_cert: tls_cert.as_deref(),
                    insecure_allow_plain_http,
                    code_ttl: chrono::Duration::hours(i64::from(hours)),
                    out: match out_file {
                        Some(path) => Out::File(path),
                        None => Out::Folder(admin.data_dir.join("provisioning")),
                    },
                },
            )
            .await?;
            print(json, &provisioned, |p| {
                format!(
                    "kit {} provisioned\nenrolment code: {} (valid until {}, single use)\nprovisioning file: {}",
                    p.kit_id,
                    p.code,
                    p.code_expires_at,
                    p.file.as_ref().map_or_else(String::new, |f| f.display().to_string())
                )
            });
            Ok(())
        }
        AdminCommand::Kit(KitCommand::List { blocked }) => {
            let mut list = admin::kit::list(admin).await?;
            if blocked {
                list.retain(|k| k.blocked.is_some());
            }
            print(json, &list, |list| {
                list.iter()
                    .map(|k| {
                        let queue = match (&k.blocked, k.outbox) {
                            (Some(b), _) => {
                                format!("BLOCKED at seq {} ({}) since {}", b.seq, b.reason, b.since)
                            }
                            (None, Some(n)) => format!("outbox {n}"),
                            (None, None) => "outbox -".to_owned(),
                        };
                        format!(
                            "{}\t{}\t{}\t{}\tlast seen {}\tlast seq {}\t{queue}",
                            k.kit_id,
                            k.name,
                            k.authority_id,
                            k.state,
                            or_dash(k.last_seen_at.as_deref()),
                            k.last_seq.map_or_else(|| "-".to_owned(), |s| s.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        AdminCommand::Kit(KitCommand::Revoke {
            kit_id,
            reason,
            mode,
            confirm_undelivered,
        }) => {
            let revoked = admin::kit::revoke_with(
                admin,
                admin::kit::RevokeArgs {
                    kit_id: &kit_id,
                    reason: &reason,
                    mode,
                    confirmed_undelivered: confirm_undelivered,
                },
            )
            .await?;
            print(json, &revoked, |r| {
                if r.state == "draining" {
                    format!(
                        "kit {kit_id} revoked ({}): it may still deliver what it finalized, \
                         flagged in the inbox, and is wiped when it reports an empty outbox",
                        r.mode
                    )
                } else {
                    format!(
                        "kit {kit_id} revoked; it receives a wipe command when it next connects"
                    )
                }
            });
            Ok(())
        }
        AdminCommand::Kit(KitCommand::Release { kit_id }) => {
            admin::kit::release(admin, &kit_id).await?;
            print(
                json,
                &serde_json::json!({"kit_id": kit_id, "released": true}),
                |_| format!("kit {kit_id} released from quarantine"),
            );
            Ok(())
        }
        AdminCommand::Kit(KitCommand::ImportHeld { file }) => {
            let imported = admin::held::import_held(admin, &file).await?;
            print(json, &imported, |i| {
                let mut lines = vec![format!(
                    "kit {}: {} position(s) imported; head now seq {}",
                    i.kit_id,
                    i.outcome.positions.len(),
                    i.outcome.head.map_or(0, |h| h.seq)
                )];
                for p in &i.outcome.positions {
                    let action = serde_json::to_value(p.action)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    lines.push(format!(
                        "  seq {} ({}): {action} — {}",
                        p.seq, p.record_id, p.detail
                    ));
                }
                if i.attachments_completed > 0 {
                    lines.push(format!(
                        "  {} attachment(s) completed from files this backend still held",
                        i.attachments_completed
                    ));
                }
                lines.push("The kit continues at its next sync.".into());
                lines.join("\n")
            });
            Ok(())
        }
        AdminCommand::ServerKey(ServerKeyCommand::Rotate { overlap_days }) => {
            let r = trust::rotate_server_key(admin, overlap_days).await?;
            print(json, &r, |r| {
                format!(
                    "server key {} is current (replaces {}; kits trust the old key until {}).\n\
                     Restart every server process now so that they sign with it.",
                    r.new,
                    r.replaces.as_deref().unwrap_or("-"),
                    r.overlap_until
                )
            });
            Ok(())
        }
        AdminCommand::TlsPin(TlsPinCommand::Announce { cert, overlap_days }) => {
            let r = trust::announce_tls_pin(admin, &cert, overlap_days).await?;
            print(json, &r, |r| {
                format!(
                    "TLS pin {} announced to every kit; kits trust the current pins until {}.\n\
                     Install the new certificate once the kits have synced, before that date.",
                    r.new, r.overlap_until
                )
            });
            Ok(())
        }
        AdminCommand::Catalog(CatalogCommand::Publish { path }) => {
            let report = catalog::publish(admin, &path).await?;
            print(json, &report, |r| {
                let mut text = format!("catalog {} {} (ETag {})", r.version, r.outcome, r.etag);
                if !r.authorities_without_keys.is_empty() {
                    text.push_str(&format!(
                        "\nwarning: not served here, kits cannot seal to: {}",
                        r.authorities_without_keys.join(", ")
                    ));
                }
                text
            });
            Ok(())
        }
        AdminCommand::Demo {
            backend_url,
            catalog,
        } => {
            let report = demo::demo(
                admin,
                &catalog,
                &backend_url,
                chrono::Duration::hours(i64::from(ttl_hours.max(1))),
            )
            .await?;
            print(json, &report, |r| {
                let mut lines = vec![format!("data folder: {}", admin.data_dir.display())];
                if !r.authorities_added.is_empty() {
                    lines.push(format!(
                        "authorities added: {}",
                        r.authorities_added.join(", ")
                    ));
                }
                for u in &r.users {
                    lines.push(match &u.password {
                        Some(p) => format!("user {} ({}): password {p}", u.login, u.role.as_str()),
                        None => format!("user {} ({}): exists already", u.login, u.role.as_str()),
                    });
                }
                lines.push(format!(
                    "catalog {} {}",
                    r.catalog.version, r.catalog.outcome
                ));
                lines.push(format!("demo kit {}", r.kit.kit_id));
                lines.push(format!(
                    "enrolment code: {} (valid until {})",
                    r.kit.code, r.kit.code_expires_at
                ));
                if let Some(f) = &r.kit.file {
                    lines.push(format!("provisioning file: {}", f.display()));
                }
                lines.join("\n")
            });
            Ok(())
        }
    }
}

/// Backup, restore and fsck: the database and the attachment store, no master key.
pub async fn maintain(
    target: &admin::Target,
    command: AdminCommand,
    json: bool,
) -> Result<(), AdminError> {
    let now = chrono::Utc::now();
    match command {
        AdminCommand::Backup { to } => {
            let blobs = BlobStore::open(&target.blobs)?;
            let store = fieldkit_backend::storage::open(&target.database, 4).await?;
            let manifest = backup::backup(&store, &blobs, &to, now).await;
            store.close().await;
            let manifest = manifest?;
            print(json, &manifest, |m| {
                let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
                format!(
                    "backup in {}: {} tables ({rows} rows, schema version {}), {} attachments; \
                     the master key is not in it — keep a copy of it apart from the backup",
                    to.display(),
                    m.tables.len(),
                    m.schema_version,
                    m.attachments.len()
                )
            });
            match manifest.unavailable_attachments.len() {
                0 => Ok(()),
                n => Err(AdminError::Incomplete(format!(
                    "{n} attachments were missing or damaged in {} and are not in the \
                     backup; `admin fsck` names their cases",
                    blobs.describe()
                ))),
            }
        }
        AdminCommand::Restore { from } => {
            let report = backup::restore(&from, &target.database, &target.blobs, now).await?;
            let blobs = BlobStore::open(&target.blobs)?;
            print(json, &report, |r| {
                let m = &r.manifest;
                let mut text = format!(
                    "restored the backup of {} ({} days old, schema version {}): {} tables, \
                     {} attachments, into {} and {}.\n\
                     Kits send again what they delivered after it at their next sync, as long \
                     as they hold it: `fieldkit purge` removes records delivered more than \
                     {KIT_RETENTION_DAYS} days ago by default, so every kit should sync before \
                     {}. A kit that cannot heal reports its blocked queue when it syncs: \
                     `admin kit list --blocked` lists them; a kit whose last contact is before \
                     now has not synced since the restore.",
                    m.created_at.format("%Y-%m-%d %H:%M UTC"),
                    r.age_days,
                    m.schema_version,
                    m.tables.len(),
                    m.attachments.len(),
                    target.database,
                    blobs.describe(),
                    (m.created_at + chrono::Duration::days(KIT_RETENTION_DAYS))
                        .format("%Y-%m-%d %H:%M UTC"),
                );
                if r.kits_may_be_blocked {
                    text.push_str(
                        "\nThe backup is older than that: a kit that purged a record it \
                         delivered after the backup stops with \"cannot_resend\"; import its \
                         held-records file (admin kit import-held).",
                    );
                }
                if !m.unavailable_attachments.is_empty() {
                    text.push_str(&format!(
                        "\n{} attachments were not in the backup; `admin fsck` names their cases.",
                        m.unavailable_attachments.len()
                    ));
                }
                text
            });
            Ok(())
        }
        AdminCommand::Fsck => {
            let blobs = BlobStore::open(&target.blobs)?;
            let store = fieldkit_backend::storage::open(&target.database, 4).await?;
            let report = backup::fsck(&store, &blobs).await;
            store.close().await;
            let report = report?;
            print(json, &report, |r| {
                let mut lines = vec![format!(
                    "{} complete attachments checked in {}, {} uploads in progress, {} problems",
                    r.checked,
                    blobs.describe(),
                    r.in_progress,
                    r.problems.len()
                )];
                for p in &r.problems {
                    lines.push(format!(
                        "missing or damaged: attachment {} ({} bytes, SHA-256 {}) of case {}",
                        p.attachment_id,
                        p.size,
                        p.sha256,
                        p.record_id
                            .map_or_else(|| "-".to_owned(), |r| r.to_string())
                    ));
                }
                lines.join("\n")
            });
            match report.problems.len() {
                0 => Ok(()),
                n => Err(AdminError::Incomplete(format!(
                    "{n} attachments are missing or damaged"
                ))),
            }
        }
        _ => Ok(()),
    }
}
