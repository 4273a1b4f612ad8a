//! Positions of values in a TOML file that already loaded, for checks that run after loading
//! (`hotline check`): "where is `ladder.fallback_url`", "where is the 2nd `[[match]]`".

use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Location;

/// One step of a path into a TOML document.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    /// A table key.
    Key(&'a str),
    /// An array element (also the n-th `[[table]]`).
    At(usize),
}

/// A parsed TOML file that answers "where is this value".
pub struct Located<'i> {
    file: PathBuf,
    text: &'i str,
    root: Option<Spanned<DeTable<'i>>>,
}

/// A string value and where it is.
pub struct StringAt {
    /// Its keys joined with dots (array elements as their index), e.g. `intake.auth.grafana.bearer`.
    pub path: String,
    pub value: String,
    pub at: Location,
}

impl<'i> Located<'i> {
    /// Parses `text`, the contents of `file`. A file that does not parse locates everything
    /// at its start.
    pub fn new(file: &Path, text: &'i str) -> Self {
        Self {
            file: file.to_path_buf(),
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// Where the value at `path` starts; the deepest part of it found, else the file's start.
    pub fn at(&self, path: &[Seg]) -> Location {
        let mut start = 0;
        let Some(root) = &self.root else {
            return self.offset(0);
        };
        let mut here: Option<&Spanned<DeValue<'i>>> = None;
        for (i, seg) in path.iter().enumerate() {
            let next = match (i, seg, here) {
                (0, Seg::Key(k), _) => root.get_ref().get(*k),
                (_, Seg::Key(k), Some(v)) => v.get_ref().get(*k),
                (_, Seg::At(n), Some(v)) => v.get_ref().get(*n),
                _ => None,
            };
            match next {
                Some(v) => {
                    start = v.span().start;
                    here = Some(v);
                }
                None => break,
            }
        }
        self.offset(start)
    }

    /// Every string value in the file, in key order.
    pub fn strings(&self) -> Vec<StringAt> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            for (k, v) in root.get_ref() {
                self.walk(k.get_ref(), v, &mut out);
            }
        }
        out
    }

    fn walk(&self, path: &str, v: &Spanned<DeValue<'i>>, out: &mut Vec<StringAt>) {
        match v.get_ref() {
            DeValue::String(s) => out.push(StringAt {
                path: path.to_string(),
                value: s.to_string(),
                at: self.offset(v.span().start),
            }),
            DeValue::Table(t) => {
                for (k, v) in t {
                    self.walk(&format!("{path}.{}", k.get_ref()), v, out);
                }
            }
            DeValue::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    self.walk(&format!("{path}.{i}"), v, out);
                }
            }
            _ => {}
        }
    }

    fn offset(&self, offset: usize) -> Location {
        Location::at_offset(&self.file, self.text, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_tables_and_array_elements() {
        let text = "[ladder]\nfallback_url = \"x\"\n\n[[match]]\nvendor = \"a\"\n\n[[match]]\nvendor = \"b\"\n\
                    [[contacts]]\nid = \"c\"\nmenu = [\n  { wait = \"1s\" },\n  { dtmf = \"{x}\" },\n]\n";
        let l = Located::new(Path::new("f.toml"), text);
        let line = |p: &[Seg]| l.at(p).line;
        assert_eq!(line(&[Seg::Key("ladder"), Seg::Key("fallback_url")]), 2);
        assert_eq!(line(&[Seg::Key("match"), Seg::At(1)]), 7);
        assert_eq!(
            line(&[Seg::Key("match"), Seg::At(1), Seg::Key("vendor")]),
            8
        );
        let step = [
            Seg::Key("contacts"),
            Seg::At(0),
            Seg::Key("menu"),
            Seg::At(1),
        ];
        assert_eq!(line(&step), 13);
        // Missing: the deepest part found.
        assert_eq!(line(&[Seg::Key("ladder"), Seg::Key("nope")]), 1);
        let strings = l.strings();
        let s = strings
            .iter()
            .find(|s| s.value == "{x}")
            .expect("nested string");
        assert_eq!(s.path, "contacts.0.menu.1.dtmf");
        assert_eq!((s.at.line, s.at.column), (13, 12));
    }
}
