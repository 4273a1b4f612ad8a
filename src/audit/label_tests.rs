//! Operators' labels: stored with their chain entry in one transaction; `verify` holds the
//! two to each other (a changed, removed or unchained label is named).

use crate::audit::{Problem, verify};
use crate::store::tests::place::{Place, both};

fn label_problems(r: &crate::audit::Report) -> Vec<&'static str> {
    r.problems
        .iter()
        .filter_map(|p| match p {
            Problem::LabelChanged { how, .. } => Some(*how),
            _ => None,
        })
        .collect()
}

async fn labels_are_kept_in_order_with_their_chain_entries_and_verified(place: Place) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = place.open().await;
    let (a, ea) = store
        .label_call("c1", "machine", "bridge leg-1 (Ada)")
        .await
        .expect("label");
    let (b, _) = store
        .label_call("c1", "person", "bridge leg-2")
        .await
        .expect("label");
    assert_eq!(
        (a.seq, ea.kind.as_str(), ea.subject.as_str()),
        (1, "call_label", "c1")
    );
    assert_eq!(b.seq, 2);
    let got = store.call_labels("c1").await.expect("labels");
    assert_eq!(got, [a.clone(), b]);
    assert!(store.call_labels("c2").await.expect("none").is_empty());
    let r = verify(&store, dir.path()).await.expect("verify");
    assert!(r.problems.is_empty(), "{:?}", r.problems);

    store
        .execute_raw("UPDATE call_labels SET given_by = 'someone else' WHERE chain_seq = 1")
        .await
        .expect("tamper");
    let r = verify(&store, dir.path()).await.expect("verify");
    assert_eq!(label_problems(&r), ["changed"]);
    assert!(
        r.problems[0].to_string().contains("call c1"),
        "{}",
        r.problems[0]
    );

    store
        .execute_raw("DELETE FROM call_labels WHERE chain_seq = 2")
        .await
        .expect("tamper");
    store
        .execute_raw(
            "INSERT INTO call_labels (chain_seq, call_id, at, label, given_by)
             VALUES (9, 'c1', '2026-12-02T10:00:00.000000Z', 'person', 'x')",
        )
        .await
        .expect("plant");
    let r = verify(&store, dir.path()).await.expect("verify");
    let mut how = label_problems(&r);
    how.sort_unstable();
    assert_eq!(how, ["changed", "not_chained", "removed"]);
}

both!(labels_are_kept_in_order_with_their_chain_entries_and_verified,);
