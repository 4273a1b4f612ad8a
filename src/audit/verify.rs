//! Recomputes the chain and every sealed file; names each difference.

use super::{CallSeal, FileHash, KIND_CALL, KIND_EDIT, hash_file, sha256_hex};
use crate::store::{ChainEntry, GENESIS, IncidentField, KIND_LABEL, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// One difference between what the chain proves and what is there now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The entry's stored hash is not the hash of its fields: the entry was edited.
    EntryChanged { seq: u64 },
    /// The entry does not commit to the one before it (an entry was inserted or replaced).
    ChainBroken { seq: u64 },
    /// Sequence numbers jump: entries were deleted.
    EntriesRemoved { from: u64, to: u64 },
    /// A sealed file's contents differ from its hash.
    FileChanged {
        call_id: String,
        file: &'static str,
        path: String,
    },
    /// A sealed file is gone.
    FileRemoved {
        call_id: String,
        file: &'static str,
        path: String,
    },
    /// A recording or timeline file that no chain entry covers, and no call is writing.
    FileAdded { path: String },
    /// The call record in the database differs from the one sealed.
    RecordChanged { call_id: String },
    /// A sealed call is missing from the database.
    CallRemoved { call_id: String },
    /// A call ended (or was cut short by a stop and recovered) but has no chain entry (never
    /// sealed, or its entry was removed).
    CallNotSealed { call_id: String },
    /// A notes or ownership field differs from its last chained edit.
    FieldChanged { incident_id: String, field: String },
    /// An operator's label differs from its chain entry, or one of the two is missing
    /// (`how`: changed, removed, not_chained).
    LabelChanged {
        call_id: String,
        seq: u64,
        how: &'static str,
    },
    /// A head hash written down earlier is no longer in the chain: it was rewritten.
    AnchorMissing { hash: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EntryChanged { seq } => write!(f, "chain entry {seq} was changed"),
            Problem::ChainBroken { seq } => write!(
                f,
                "chain entry {seq} does not follow entry {} (inserted or replaced)",
                seq.saturating_sub(1)
            ),
            Problem::EntriesRemoved { from, to } if from == to => {
                write!(f, "chain entry {from} was removed")
            }
            Problem::EntriesRemoved { from, to } => {
                write!(f, "chain entries {from}..={to} were removed")
            }
            Problem::FileChanged {
                call_id,
                file,
                path,
            } => write!(f, "call {call_id}: {file} {path} was changed"),
            Problem::FileRemoved {
                call_id,
                file,
                path,
            } => write!(f, "call {call_id}: {file} {path} was removed"),
            Problem::FileAdded { path } => write!(f, "{path} was added (not in the chain)"),
            Problem::RecordChanged { call_id } => {
                write!(f, "call {call_id}: the stored call record was changed")
            }
            Problem::CallRemoved { call_id } => {
                write!(f, "call {call_id} was removed from the database")
            }
            Problem::CallNotSealed { call_id } => write!(
                f,
                "call {call_id} ended but is not in the chain (never sealed, or its entry removed)"
            ),
            Problem::AnchorMissing { hash } => write!(
                f,
                "the recorded head {hash} is not in the chain: the chain was rewritten"
            ),
            Problem::LabelChanged { call_id, seq, how } => match *how {
                "removed" => write!(
                    f,
                    "call {call_id}: the operator label of chain entry {seq} was removed"
                ),
                "not_chained" => write!(
                    f,
                    "call {call_id}: an operator label (entry {seq}) is in no chain entry"
                ),
                _ => write!(
                    f,
                    "call {call_id}: the operator label differs from chain entry {seq}"
                ),
            },
            Problem::FieldChanged { incident_id, field } => write!(
                f,
                "incident {incident_id}: {field} differs from its last recorded edit"
            ),
        }
    }
}

impl Problem {
    /// The call this problem is about, if one.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Problem::FileChanged { call_id, .. }
            | Problem::FileRemoved { call_id, .. }
            | Problem::RecordChanged { call_id }
            | Problem::CallRemoved { call_id }
            | Problem::CallNotSealed { call_id }
            | Problem::LabelChanged { call_id, .. } => Some(call_id),
            _ => None,
        }
    }
}

/// The verification state of one call, as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallCheck {
    /// Sealed, and the files and record match.
    Verified { seq: u64, hash: String },
    /// Not sealed yet (live, or the call has not finished being written).
    Unsealed,
    /// Sealed, but something differs.
    Failed { problems: Vec<String> },
}

/// What `hotline verify` found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Chain entries read.
    pub entries: usize,
    /// Calls whose seal was checked.
    pub calls: usize,
    /// Calls in the store (sealed or not).
    pub stored_calls: usize,
    /// Calls in the store not sealed yet and not ended: live, or cut short by a stop that no
    /// start has recovered yet (the next `hotline serve` seals them).
    pub unsealed_live: Vec<String>,
    /// Files hashed.
    pub files: usize,
    /// The last entry's hash: write it down (or publish it) to anchor the chain.
    pub head: Option<String>,
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing differs.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks one entry's own hash and its link to the previous stored hash.
fn check_links(chain: &[ChainEntry], out: &mut Vec<Problem>) {
    let mut prev: Option<&ChainEntry> = None;
    for e in chain {
        if e.expected_hash() != e.hash {
            out.push(Problem::EntryChanged { seq: e.seq });
        }
        let want_seq = prev.map_or(1, |p| p.seq + 1);
        if e.seq > want_seq {
            out.push(Problem::EntriesRemoved {
                from: want_seq,
                to: e.seq - 1,
            });
        } else {
            let want_prev = prev.map_or(GENESIS, |p| p.hash.as_str());
            if e.prev_hash != want_prev {
                out.push(Problem::ChainBroken { seq: e.seq });
            }
        }
        prev = Some(e);
    }
}

fn check_file(call_id: &str, file: &'static str, f: &FileHash, out: &mut Vec<Problem>) {
    let problem = match hash_file(Path::new(&f.path)) {
        Ok((sha, bytes)) if sha == f.sha256 && bytes == f.bytes => return,
        Ok(_) => Problem::FileChanged {
            call_id: call_id.into(),
            file,
            path: f.path.clone(),
        },
        Err(_) => Problem::FileRemoved {
            call_id: call_id.into(),
            file,
            path: f.path.clone(),
        },
    };
    out.push(problem);
}

/// Checks one sealed call's files and stored record against its entry (blocking file
/// reads run off the runtime).
async fn check_seal(
    store: &Store,
    seal: &CallSeal,
    out: &mut Vec<Problem>,
) -> Result<(), StoreError> {
    let s = seal.clone();
    let files = tokio::task::spawn_blocking(move || {
        let mut p = Vec::new();
        check_file(&s.call_id, "recording", &s.wav, &mut p);
        check_file(&s.call_id, "timeline", &s.timeline, &mut p);
        p
    })
    .await
    .unwrap_or_default();
    out.extend(files);
    match store.record_text(&seal.call_id).await? {
        None => out.push(Problem::CallRemoved {
            call_id: seal.call_id.clone(),
        }),
        Some((text, _)) if sha256_hex(text.as_bytes()) != seal.record_sha256 => {
            out.push(Problem::RecordChanged {
                call_id: seal.call_id.clone(),
            })
        }
        Some(_) => {}
    }
    Ok(())
}

/// The folder under the recordings folder where `hotline dial` writes: drill calls made from
/// the command line, outside the store and the chain (documented in the README).
pub const CLI_DIR: &str = "cli";

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("wav") | Some("json")
        ) {
            out.push(p);
        }
    }
}

/// Recomputes the whole chain, every sealed file and record, the notes fields, and looks
/// for files under `recordings` that nothing sealed.
pub async fn verify(store: &Store, recordings: &Path) -> Result<Report, StoreError> {
    verify_anchored(store, recordings, &[]).await
}

/// [`verify`], and also checks that each of `anchors` (head hashes written down earlier)
/// is still an entry of the chain.
pub async fn verify_anchored(
    store: &Store,
    recordings: &Path,
    anchors: &[String],
) -> Result<Report, StoreError> {
    let chain = store.chain().await?;
    let mut r = Report {
        entries: chain.len(),
        head: chain.last().map(|e| e.hash.clone()),
        ..Default::default()
    };
    check_links(&chain, &mut r.problems);
    for a in anchors {
        let a = a.trim().to_ascii_lowercase();
        if !chain.iter().any(|e| e.hash == a) {
            r.problems.push(Problem::AnchorMissing { hash: a });
        }
    }
    let mut sealed: BTreeMap<String, CallSeal> = BTreeMap::new();
    // Recordings deleted by the retention policy, by call: the hash the tombstone names.
    let mut tombstones: HashMap<String, super::FileHash> = HashMap::new();
    let mut edits: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut labels: BTreeMap<u64, &ChainEntry> = BTreeMap::new();
    for e in &chain {
        match e.kind.as_str() {
            KIND_CALL => {
                if let Ok(s) = serde_json::from_str::<CallSeal>(&e.payload) {
                    sealed.entry(s.call_id.clone()).or_insert(s);
                }
            }
            super::retention::KIND_TOMBSTONE => {
                if let Ok(t) = serde_json::from_str::<super::retention::Tombstone>(&e.payload) {
                    tombstones.insert(t.call_id, t.wav);
                }
            }
            KIND_LABEL => {
                labels.insert(e.seq, e);
            }
            KIND_EDIT => {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.payload) {
                    let field = v["field"].as_str().unwrap_or_default().to_string();
                    let value = v["value"].as_str().map(str::to_string);
                    edits.insert((e.subject.clone(), field), value);
                }
            }
            _ => {}
        }
    }
    for seal in sealed.values() {
        let mut found = Vec::new();
        check_seal(store, seal, &mut found).await?;
        // A recording the retention policy deleted is gone by design, if the tombstone names
        // exactly the sealed file; any other deletion or change stays a problem.
        let deleted = tombstones.get(&seal.call_id) == Some(&seal.wav);
        r.problems.extend(found.into_iter().filter(|p| {
            !(deleted
                && matches!(
                    p,
                    Problem::FileRemoved {
                        file: "recording",
                        ..
                    }
                ))
        }));
        r.calls += 1;
        r.files += if deleted { 1 } else { 2 };
    }
    let facts = store.call_facts(None, None).await?;
    r.stored_calls = facts.len();
    let mut live = BTreeSet::new();
    for c in &facts {
        if !sealed.contains_key(&c.call_id) {
            if c.ended || c.interrupted {
                r.problems.push(Problem::CallNotSealed {
                    call_id: c.call_id.clone(),
                });
            } else {
                live.insert(c.call_id.clone());
            }
        }
    }
    r.unsealed_live = live.iter().cloned().collect();
    let mut covered: BTreeSet<PathBuf> = BTreeSet::new();
    for s in sealed.values() {
        covered.insert(normalize(&s.wav.path));
        covered.insert(normalize(&s.timeline.path));
    }
    let mut files = Vec::new();
    let root = recordings.to_path_buf();
    let files = tokio::task::spawn_blocking(move || {
        let Ok(rd) = std::fs::read_dir(&root) else {
            return files;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == CLI_DIR) {
                    continue;
                }
                walk(&p, &mut files);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("wav") | Some("json")
            ) {
                files.push(p);
            }
        }
        files
    })
    .await
    .unwrap_or_default();
    for f in files {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if covered.contains(&normalize(&f.to_string_lossy())) || live.contains(stem) {
            continue;
        }
        // A call that ended unsealed is already reported by id.
        if facts.iter().any(|c| c.call_id == stem) {
            continue;
        }
        r.problems.push(Problem::FileAdded {
            path: f.to_string_lossy().into_owned(),
        });
    }
    check_labels(store, &labels, &mut r.problems).await?;
    for (id, values) in store.incident_fields().await? {
        for (field, now) in IncidentField::ALL.iter().zip(values) {
            let key = (id.clone(), field.column().to_string());
            let differs = match edits.get(&key) {
                Some(last) => *last != now,
                // Notes are only ever written through the console; the ownership fields
                // may be captured elsewhere and are held to the chain once edited here.
                None => *field == IncidentField::Notes && now.is_some(),
            };
            if differs {
                r.problems.push(Problem::FieldChanged {
                    incident_id: id.clone(),
                    field: field.column().into(),
                });
            }
        }
    }
    Ok(r)
}

/// Each stored label against its chain entry (call, time, label, who), and each chained
/// label against the store.
async fn check_labels(
    store: &Store,
    chained: &BTreeMap<u64, &ChainEntry>,
    out: &mut Vec<Problem>,
) -> Result<(), StoreError> {
    let stored = store.all_call_labels().await?;
    for l in &stored {
        let how = match chained.get(&l.seq) {
            None => "not_chained",
            Some(e)
                if e.subject != l.call_id
                    || e.at != crate::store::format_ts(l.at)
                    || e.payload != crate::store::label_payload(&l.label, &l.by) =>
            {
                "changed"
            }
            Some(_) => continue,
        };
        out.push(Problem::LabelChanged {
            call_id: l.call_id.clone(),
            seq: l.seq,
            how,
        });
    }
    for (seq, e) in chained {
        if !stored.iter().any(|l| l.seq == *seq) {
            out.push(Problem::LabelChanged {
                call_id: e.subject.clone(),
                seq: *seq,
                how: "removed",
            });
        }
    }
    Ok(())
}

/// A path compared without `./` prefixes, and absolute where it exists.
fn normalize(p: &str) -> PathBuf {
    let p = Path::new(p);
    std::fs::canonicalize(p).unwrap_or_else(|_| p.components().collect())
}

/// The verification state of one call: its entry's own hash, its files and its record.
/// (The whole chain's links are `verify`'s job.)
pub async fn verify_call(store: &Store, call_id: &str) -> Result<CallCheck, StoreError> {
    let entry = store
        .chain_of(call_id)
        .await?
        .into_iter()
        .find(|e| e.kind == KIND_CALL);
    let Some(entry) = entry else {
        return Ok(CallCheck::Unsealed);
    };
    let mut problems = Vec::new();
    if entry.expected_hash() != entry.hash {
        problems.push(Problem::EntryChanged { seq: entry.seq });
    }
    match serde_json::from_str::<CallSeal>(&entry.payload) {
        Ok(seal) => check_seal(store, &seal, &mut problems).await?,
        Err(_) => problems.push(Problem::EntryChanged { seq: entry.seq }),
    }
    Ok(if problems.is_empty() {
        CallCheck::Verified {
            seq: entry.seq,
            hash: entry.hash,
        }
    } else {
        CallCheck::Failed {
            problems: problems.iter().map(ToString::to_string).collect(),
        }
    })
}
