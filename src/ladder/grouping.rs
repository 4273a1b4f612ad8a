//! Which incidents share one call: the same vendor line (a contact's `uri`) and the same asset
//! or site (`group_by`). Pure: the service keeps the groups, this names them.

use crate::config::GroupBy;
use crate::incident::Incident;

/// The asset an incident is about: its asset tag, else serial number, else cloud instance,
/// else its `host` / `hostname` / `instance` label (without a `:port`). Case-folded.
pub fn asset_of(i: &Incident) -> Option<String> {
    let a = &i.asset;
    let label = || {
        ["host", "hostname", "instance"]
            .iter()
            .find_map(|k| i.labels.get(*k))
            .map(|v| {
                v.rsplit_once(':')
                    .map_or(v.as_str(), |(h, _)| h)
                    .to_string()
            })
    };
    [a.tag.clone(), a.serial.clone(), a.instance_id.clone()]
        .into_iter()
        .flatten()
        .chain(std::iter::once_with(label).flatten())
        .map(|v| v.trim().to_lowercase())
        .find(|v| !v.is_empty())
}

/// The group an incident on `line` belongs to under `by`; `None`: not grouped (`none`, or
/// the incident names no asset / site).
pub fn group_key(i: &Incident, line: &str, by: GroupBy) -> Option<String> {
    let what = match by {
        GroupBy::None => return None,
        GroupBy::Asset => format!("asset={}", asset_of(i)?),
        GroupBy::Site => {
            let site = i.asset.site.as_deref()?.trim().to_lowercase();
            if site.is_empty() {
                return None;
            }
            format!("site={site}")
        }
    };
    Some(format!("{line} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(tag: Option<&str>, host: &str, site: &str) -> Incident {
        let mut i = Incident::default();
        i.asset.tag = tag.map(str::to_string);
        i.asset.site = Some(site.into());
        i.labels.insert("instance".into(), format!("{host}:9100"));
        i
    }

    #[test]
    fn the_same_asset_on_the_same_line_is_one_group() {
        let a = disk(Some("AT-004711"), "db-7", "fra1");
        let b = disk(Some("at-004711 "), "db-7", "fra1");
        let k = group_key(&a, "sip:dell@x", GroupBy::Asset);
        assert_eq!(k.as_deref(), Some("sip:dell@x asset=at-004711"));
        assert_eq!(k, group_key(&b, "sip:dell@x", GroupBy::Asset));
        assert_ne!(
            k,
            group_key(&b, "sip:hpe@x", GroupBy::Asset),
            "another line"
        );
    }

    #[test]
    fn without_a_tag_the_host_label_names_the_asset() {
        let a = disk(None, "db-7.fra1", "fra1");
        assert_eq!(asset_of(&a).as_deref(), Some("db-7.fra1"));
        let other = disk(None, "db-8.fra1", "fra1");
        assert_ne!(
            group_key(&a, "l", GroupBy::Asset),
            group_key(&other, "l", GroupBy::Asset)
        );
        // By site, both hosts of fra1 are one group.
        assert_eq!(
            group_key(&a, "l", GroupBy::Site),
            group_key(&other, "l", GroupBy::Site)
        );
    }

    #[test]
    fn none_or_no_asset_is_never_grouped() {
        let a = disk(Some("AT-1"), "h", "s");
        assert_eq!(group_key(&a, "l", GroupBy::None), None);
        assert_eq!(group_key(&Incident::default(), "l", GroupBy::Asset), None);
        assert_eq!(group_key(&Incident::default(), "l", GroupBy::Site), None);
    }
}
