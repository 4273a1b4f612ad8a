use std::fs;

use super::*;

#[test]
fn json_is_written_and_replaced_without_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2024/03/07/call.json");
    write_json_atomic(&path, &serde_json::json!({"state": "ringing"})).unwrap();
    write_json_atomic(
        &path,
        &serde_json::json!({"state": "ended", "frames": 8000}),
    )
    .unwrap();

    let read: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(read, serde_json::json!({"state": "ended", "frames": 8000}));
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["call.json"]);
}

#[test]
fn recording_path_is_dated() {
    let path = recording_path(Path::new("/rec"), (2024, 3, 7), "a-1.B_2").unwrap();
    assert_eq!(path, Path::new("/rec/2024/03/07/a-1.B_2.wav"));
}

#[test]
fn unsafe_call_ids_are_refused() {
    let long = "a".repeat(MAX_CALL_ID_LEN + 1);
    for id in [
        "", "../x", "a/b", "a\\b", "a b", "x@host", "é", "a\0b", &long,
    ] {
        let err = recording_path(Path::new("/rec"), (2024, 3, 7), id).unwrap_err();
        assert!(matches!(err, RecordingError::InvalidCallId(_)), "{id:?}");
    }
}
