//! The reviewer's start page (issue 17, items 7 and 11): counts per status, cases new
//! since the last visit, assigned to me, Rückfragen answered — all of the own authority
//! only, and nothing decrypted for it.

use axum::http::StatusCode;
use chrono::Utc;
use fieldkit_backend::storage::Role;
use sync_protocol::api::CaseStatus;

use crate::office_casework::purposes;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend};

/// The start page's section `id` (`new`, `mine`, `answered`).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"work-{id}\""))
        .unwrap_or_else(|| panic!("no section {id}:\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn the_start_page_shows_the_reviewers_work_in_their_own_authority() {
    for db in databases("the_start_page_shows_the_reviewers_work_in_their_own_authority") {
        let backend = Backend::new(&db).await;
        let pw = add_user(&backend, "gemeinde-musterstadt", "r.berger", Role::Reviewer).await;
        let other = add_user(&backend, "gemeinde-musterstadt", "s.wolf", Role::Reviewer).await;
        let county_pw = add_user(
            &backend,
            "landkreis-musterkreis",
            "k.sommer",
            Role::Reviewer,
        )
        .await;
        let mut kit = backend.kit().await;
        let cases: Vec<_> = (0..4).map(|_| kit.next(&Spec::anmeldung())).collect();
        let licence = kit.next(&Spec::driving_licence());
        push(
            &backend,
            &kit,
            &cases.iter().chain([&licence]).collect::<Vec<_>>(),
        )
        .await;
        let ids: Vec<String> = cases
            .iter()
            .map(|c| c.record.record_id.to_string())
            .collect();
        let number = |i: usize| {
            sync_protocol::codes::case_number(&cases[i].record.kit_id, cases[i].record.seq)
        };

        // First visit: nothing of r.berger's in the logs — the new cases are the received ones.
        let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;
        let html = browser.get(&backend, "/office").await.text();
        let new = section(&html, "new");
        assert!(new.contains("(4)"), "{}: {new}", db.name());
        assert!(new.contains(&number(0)) && new.contains(&number(3)));
        assert!(
            !new.contains(&sync_protocol::codes::case_number(
                &licence.record.kit_id,
                licence.record.seq
            )),
            "the county's case is not on a Musterstadt page"
        );

        // r.berger works: case 0 assigned to them and into review, case 1 to a Rückfrage
        // and back into review (answered), case 2 assigned to the colleague.
        let store = backend.store();
        let now = Utc::now();
        let expect = |id: &str| {
            let id = id.parse().expect("id");
            async move {
                store
                    .case_detail(&id)
                    .await
                    .expect("case")
                    .expect("exists")
                    .case
                    .assigned_to
            }
        };
        for (i, assignee) in [(0, "r.berger"), (2, "s.wolf")] {
            let path = format!("/office/cases/{}", ids[i]);
            browser.get(&backend, &path).await;
            let resp = browser
                .submit(
                    &backend,
                    &format!("{path}/assignee"),
                    &[("assignee", assignee), ("expected", "")],
                )
                .await;
            assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
            assert_eq!(expect(&ids[i]).await.as_deref(), Some(assignee));
        }
        let id1 = cases[1].record.record_id;
        for (from, to, comment) in [
            (
                CaseStatus::Received,
                CaseStatus::NeedsInformation,
                Some("Pass fehlt"),
            ),
            (CaseStatus::NeedsInformation, CaseStatus::InReview, None),
        ] {
            assert!(store
                .transition_case(&id1, from, to, comment, "r.berger", now)
                .await
                .expect("transition"));
        }
        let id0 = cases[0].record.record_id;
        assert!(store
            .transition_case(
                &id0,
                CaseStatus::Received,
                CaseStatus::InReview,
                None,
                "r.berger",
                now
            )
            .await
            .expect("transition"));

        // A new session later: a fifth case arrived since.
        let fifth = kit.next(&Spec::anmeldung());
        push(&backend, &kit, &[&fifth]).await;
        let mut browser = Browser::signed_in(&backend, "r.berger", &pw).await;
        let resp = browser.get(&backend, "/office").await;
        assert_eq!(resp.status, StatusCode::OK);
        let html = resp.text();
        let new = section(&html, "new");
        let fifth_number =
            sync_protocol::codes::case_number(&fifth.record.kit_id, fifth.record.seq);
        assert!(new.contains(&fifth_number), "{new}");
        assert!(
            new.contains("(1)") && !new.contains(&number(3)),
            "only what came after: {new}"
        );
        let mine = section(&html, "mine");
        assert!(
            mine.contains(&number(0)) && !mine.contains(&number(2)),
            "{mine}"
        );
        assert!(mine.contains("(1)"), "{mine}");
        let answered = section(&html, "answered");
        assert!(
            answered.contains(&number(1)) && answered.contains("(1)"),
            "{answered}"
        );
        assert!(
            !answered.contains(&number(0)),
            "in review without a Rückfrage: {answered}"
        );
        for (status, n) in [("Eingegangen", 3), ("In Bearbeitung", 2), ("Rückfrage", 0)] {
            assert!(
                html.contains(&format!("{status}: <strong>{n}</strong>")),
                "{status} {n}:\n{html}"
            );
        }
        for case in cases.iter().chain([&fifth]) {
            let opened = purposes(&backend, case.record.record_id).await;
            assert!(
                opened.iter().all(|p| p == "view"),
                "the start page decrypts nothing: {opened:?}"
            );
        }

        // The colleague sees their own assignment, and the county reviewer nothing of
        // Musterstadt.
        let mut colleague = Browser::signed_in(&backend, "s.wolf", &other).await;
        let html = colleague.get(&backend, "/office").await.text();
        assert!(section(&html, "mine").contains(&number(2)));
        let mut county = Browser::signed_in(&backend, "k.sommer", &county_pw).await;
        let html = county.get(&backend, "/office").await.text();
        for i in 0..4 {
            assert!(!html.contains(&number(i)), "{html}");
        }
        assert!(
            section(&html, "new").contains("(1)"),
            "the county's own case"
        );
    }
}

#[tokio::test]
async fn other_roles_get_no_case_lists_on_the_start_page() {
    let backend = Backend::new(&crate::support::Db::Sqlite).await;
    let pw = add_user(&backend, "gemeinde-musterstadt", "i.it", Role::ItOperator).await;
    let mut kit = backend.kit().await;
    let case = kit.next(&Spec::anmeldung());
    push(&backend, &kit, &[&case]).await;
    let mut browser = Browser::signed_in(&backend, "i.it", &pw).await;
    let resp = browser.get(&backend, "/office").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(!resp.text().contains("id=\"work-"), "{}", resp.text());
}
