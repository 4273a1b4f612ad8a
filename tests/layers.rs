//! The house's floors (docs/ARCHITECTURE.md): each folder of `src/` imports only from the
//! folders below it. Reads every `src/**/*.rs`, maps each `crate::X` path (in `use` lines,
//! `use crate::{X, Y::..}` groups and inline paths; `super::` paths that climb out of their
//! folder too) to its folder and fails naming `file:line` for every import of a folder on the
//! same floor or above. Tests inside `src/` count: a test that needs a higher floor lives there.

use std::path::{Path, PathBuf};

/// Bottom first. A folder may import only folders earlier in this list. Kept in the same
/// order as the table in docs/ARCHITECTURE.md ("Floors").
const FLOORS: &[&str] = &[
    // Pure cores: no I/O, time is an input.
    "media",
    "recording",
    "listen",
    "call",
    // Values: webhook bodies, hotline.toml and dialplans as typed values.
    "incident",
    "config",
    "dialplan",
    // The escalation ladder, pure like call/.
    "ladder",
    // Edges: speech, the SIP stack, the database, the hash chain.
    "briefing",
    "sip",
    "store",
    "audit",
    // Wiring: tasks and sockets, then HTTP, then the commands.
    "runtime",
    "web",
    "cli",
];

/// One import that breaks the floors.
#[derive(Debug, PartialEq)]
struct Upward {
    file: String,
    line: usize,
    from: String,
    to: String,
}

fn floor(folder: &str) -> Option<usize> {
    FLOORS.iter().position(|f| *f == folder)
}

/// `text` with comments and string/char literals blanked (newlines kept, so lines still count).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if b[i] == b'r' && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) && {
            // A raw string r"..." / r#"..."#, not an identifier ending in r.
            i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
        } {
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            j += 1;
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            let end = (j + close.len()).min(b.len());
            out.extend(b[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
                out.push(blank(b[i]));
                i += 1;
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // 'x' (a lifetime has no closing quote).
            out.extend_from_slice(b"   ");
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            // '\n', '\'', '\u{..}'
            let mut j = i + 2;
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            out.extend(b[i..=j.min(b.len() - 1)].iter().map(|&c| blank(c)));
            i = j + 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first segment of every top-level item of the group starting at `s` (just after `{`).
fn group_heads(s: &str) -> Vec<(usize, String)> {
    let mut heads = vec![];
    let mut depth = 1;
    let mut start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => start = true,
            c if start && depth == 1 && !c.is_whitespace() => {
                start = false;
                heads.push((i, ident_at(&s[i..]).to_string()));
            }
            _ => {}
        }
    }
    heads
}

/// The folders `code` (one file's code, comments blanked) names, each with its line.
/// `depth` is how many modules deep the file is (`src/a/b.rs`: 2, `src/a/mod.rs`: 1), so a
/// `super::` path that climbs to the crate root is followed too.
fn imports(code: &str, depth: usize) -> Vec<(usize, String)> {
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut out = vec![];
    let bytes = code.as_bytes();
    let word_start = |at: usize| {
        at == 0
            || !(bytes[at - 1].is_ascii_alphanumeric()
                || bytes[at - 1] == b'_'
                || bytes[at - 1] == b'$')
    };
    for (at, _) in code.match_indices("crate::") {
        if !word_start(at) {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            for (i, head) in group_heads(group) {
                let pos = at + "crate::{".len() + i;
                out.push((line_of(pos), head));
            }
        } else {
            out.push((line_of(at), ident_at(rest).to_string()));
        }
    }
    for (at, _) in code.match_indices("super::") {
        if !word_start(at) || (at >= 7 && &code[at - 7..at] == "super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups < depth {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            for (_, head) in group_heads(group) {
                out.push((line_of(at), head));
            }
        } else {
            out.push((line_of(at), ident_at(rest).to_string()));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every upward (or sideways) import in the files under `src`, and every folder missing from
/// [`FLOORS`].
fn check(src: &Path) -> (Vec<Upward>, Vec<String>) {
    let mut files = vec![];
    rust_files(src, &mut files);
    let mut upward = vec![];
    let mut unplaced = vec![];
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let parts: Vec<_> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.len() == 1 {
            // lib.rs (the module list) and main.rs (the binary, on top of everything).
            continue;
        }
        let folder = parts[0].clone();
        let Some(own) = floor(&folder) else {
            if !unplaced.contains(&folder) {
                unplaced.push(folder);
            }
            continue;
        };
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod.rs"));
        let text = std::fs::read_to_string(&file).expect("read file");
        for (line, to) in imports(&code_only(&text), depth) {
            if to == folder || to.is_empty() {
                continue;
            }
            // A name at the crate root that is no folder (none today) is not a floor.
            let Some(theirs) = floor(&to) else {
                if src.join(&to).is_dir() || src.join(format!("{to}.rs")).is_file() {
                    unplaced.push(to);
                }
                continue;
            };
            if theirs >= own {
                upward.push(Upward {
                    file: format!("src/{}", rel.display()),
                    line,
                    from: folder.clone(),
                    to,
                });
            }
        }
    }
    (upward, unplaced)
}

#[test]
fn each_folder_imports_only_from_floors_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (upward, unplaced) = check(&src);
    assert!(
        unplaced.is_empty(),
        "folders of src/ missing from FLOORS (tests/layers.rs and docs/ARCHITECTURE.md): {unplaced:?}"
    );
    let report: Vec<String> = upward
        .iter()
        .map(|u| {
            format!(
                "{}:{}: {} imports {} (a floor above or beside it)",
                u.file, u.line, u.from, u.to
            )
        })
        .collect();
    assert!(report.is_empty(), "upward imports:\n{}", report.join("\n"));
}

#[test]
fn the_reader_finds_every_form_of_import() {
    let code = code_only(
        "use crate::media::rtp;\n\
         use crate::{call::Call, web::router};\n\
         // use crate::cli::nothing;\n\
         let s = \"crate::cli::not_code\";\n\
         let x = crate::store::Store::open();\n\
         use super::super::runtime::Service;\n\
         fn f<'a>(c: char) -> bool { c == '\"' && crate::sip::ok() }\n",
    );
    let found = imports(&code, 2);
    assert_eq!(
        found,
        vec![
            (1, "media".to_string()),
            (2, "call".to_string()),
            (2, "web".to_string()),
            (5, "store".to_string()),
            (7, "sip".to_string()),
            (6, "runtime".to_string()),
        ]
    );
    // Two levels down, one `super::` stays in its folder.
    assert!(imports(&code_only("use super::x::Y;"), 2).is_empty());
}

#[test]
fn an_upward_import_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path();
    std::fs::create_dir_all(src.join("call")).expect("mkdir");
    std::fs::create_dir_all(src.join("web")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "pub mod call;\npub mod web;\n").expect("write");
    std::fs::write(
        src.join("call/mod.rs"),
        "//! x\n\nuse crate::media::rtp;\nuse crate::web::router;\n",
    )
    .expect("write");
    std::fs::write(src.join("web/mod.rs"), "use crate::call::Call;\n").expect("write");
    let (upward, unplaced) = check(src);
    assert!(unplaced.is_empty(), "{unplaced:?}");
    assert_eq!(
        upward,
        vec![Upward {
            file: "src/call/mod.rs".into(),
            line: 4,
            from: "call".into(),
            to: "web".into(),
        }]
    );
}
