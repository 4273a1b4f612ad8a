//! The briefing's words: incident fields, normalized for speech, put into a template.

use std::collections::HashMap;

use crate::config::{BriefingConfig, Language};
use crate::dialplan::{BriefingTemplate, Piece};
use crate::incident::{Incident, Pattern, Severity};

use super::normalize::{is_secret_key, is_secret_value, normalize, since, spell, started};

/// The English default template: the short report a person on a support line can take in
/// (under 40 s for the sample incident): who calls, the asset as the vendor knows it (serial
/// or cloud instance), what failed and since when, the impact, the contract; then how to hear
/// the rest ([`DETAILS_EN`], on 2). Our own asset tag is a detail: vendors look up serials.
pub const DEFAULT_EN: &str = "\
This is {caller}, with an automated incident report.
Serial number: {serial}.
Cloud instance: {instance_id}.
Fault: {summary}.
Since {since}.
Impact: {impact}.
Contract: {contract}.
Press 2 for details, star to repeat.";

/// The rest of the English default, played when the vendor presses 2.
pub const DETAILS_EN: &str = "\
Details of the incident report.
Callback number: {callback}.
Asset tag: {tag}.
Model: {model}.
Operating system: {os}.
Location: {location}.
Severity: {severity}.
The fault started {started}.
Timeline: {timeline}.
Last change before the fault: {last_change}.
The fault is {pattern}.
Estimated loss per minute: {loss_per_minute}.
Already tried: {tried}.
What we ask: {request}.
Once more: {key_ids}.
To hear the report again, press star. Thank you.";

/// The Mandarin default template (the short report; [`DETAILS_ZH`] on 2).
pub const DEFAULT_ZH: &str = "\
您好，这里是{caller}，这是一份自动故障报告。
序列号：{serial}。
云实例：{instance_id}。
故障：{summary}。
开始时间：{since}。
影响：{impact}。
合同号：{contract}。
详细信息请按2，重听请按星号键。";

/// The rest of the Mandarin default, played on 2.
pub const DETAILS_ZH: &str = "\
故障报告详细信息。
回拨电话：{callback}。
资产标签：{tag}。
型号：{model}。
操作系统：{os}。
位置：{location}。
严重程度：{severity}。
故障开始时间：{started}。
经过：{timeline}。
故障前最后一次变更：{last_change}。
故障{pattern}。
每分钟损失约：{loss_per_minute}。
已经尝试：{tried}。
我们的请求：{request}。
再说一遍：{key_ids}。
重听报告请按星号键。谢谢。";

/// The short greeting played while the briefing is still being synthesized.
pub fn greeting(config: &BriefingConfig, lang: Language) -> String {
    let caller = config.caller.as_deref().map(|c| normalize(c, lang));
    match (lang, caller) {
        (Language::En, Some(c)) => format!("This is {c}, with an automated incident report."),
        (Language::En, None) => "This is an automated incident report.".into(),
        (Language::Zh, Some(c)) => format!("您好，这里是{c}，这是一份自动故障报告。"),
        (Language::Zh, None) => "您好，这是一份自动故障报告。".into(),
    }
}

/// The briefing for `incident` in `lang`, from `template` or the default one. Lines whose
/// placeholders have no value are left out; lines are joined with newlines.
pub fn render(
    incident: &Incident,
    config: &BriefingConfig,
    lang: Language,
    template: Option<&BriefingTemplate>,
) -> String {
    render_group(std::slice::from_ref(incident), config, lang, template)
}

/// The briefing for several incidents on one asset (a group: one call for all): the first
/// one's fields, every fault in `{summary}` ("3 faults. Fault 1: …. Fault 2: …") and the
/// highest severity. One incident renders as [`render`].
pub fn render_group(
    incidents: &[Incident],
    config: &BriefingConfig,
    lang: Language,
    template: Option<&BriefingTemplate>,
) -> String {
    let Some(incident) = incidents.first() else {
        return String::new();
    };
    let default;
    let template = match template {
        Some(t) => t,
        None => {
            let text = match lang {
                Language::En => DEFAULT_EN,
                Language::Zh => DEFAULT_ZH,
            };
            // The default templates are constants checked by a test.
            default = BriefingTemplate::parse(text)
                .unwrap_or_else(|_| BriefingTemplate { lines: Vec::new() });
            &default
        }
    };
    fill(
        template,
        &group_fields(incidents, config, lang),
        incident,
        lang,
    )
}

/// The details the default briefing offers on 2, for the same incidents; `None` with a
/// dialplan's own template (it says what it says, no second part).
pub fn render_details(
    incidents: &[Incident],
    config: &BriefingConfig,
    lang: Language,
    template: Option<&BriefingTemplate>,
) -> Option<String> {
    let incident = incidents.first()?;
    if template.is_some() {
        return None;
    }
    let text = match lang {
        Language::En => DETAILS_EN,
        Language::Zh => DETAILS_ZH,
    };
    let details = BriefingTemplate::parse(text).ok()?;
    Some(fill(
        &details,
        &group_fields(incidents, config, lang),
        incident,
        lang,
    ))
}

/// The fields of a group: the first incident's, every fault in `{summary}`, the highest
/// severity.
fn group_fields(
    incidents: &[Incident],
    config: &BriefingConfig,
    lang: Language,
) -> HashMap<&'static str, String> {
    let Some(incident) = incidents.first() else {
        return HashMap::new();
    };
    let mut fields = fields(incident, config, lang);
    if let Some(summary) = group_summary(incidents, lang) {
        fields.insert("summary", summary);
        let worst = incidents.iter().map(|i| i.severity).max();
        if let Some(s) = worst.filter(|s| *s != incident.severity) {
            let one = Incident {
                severity: s,
                ..Incident::default()
            };
            if let Some(v) = self::fields(&one, config, lang).remove("severity") {
                fields.insert("severity", v);
            }
        }
    }
    fields
}

/// `template` with `fields` put in; lines whose placeholders have no value are left out.
fn fill(
    template: &BriefingTemplate,
    fields: &HashMap<&'static str, String>,
    incident: &Incident,
    lang: Language,
) -> String {
    let mut lines = Vec::new();
    'line: for line in &template.lines {
        let mut out = String::new();
        for piece in line {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Field(name) => match fields.get(name.as_str()) {
                    Some(value) => out.push_str(value),
                    None => continue 'line,
                },
                Piece::Label(name) => match label(incident, name, lang) {
                    Some(value) => out.push_str(&value),
                    None => continue 'line,
                },
            }
        }
        let out = out.trim();
        if !out.is_empty() {
            lines.push(out.to_string());
        }
    }
    lines.join("\n")
}

/// Every distinct fault of a group, numbered; `None` for a single fault.
fn group_summary(incidents: &[Incident], lang: Language) -> Option<String> {
    let mut faults: Vec<String> = Vec::new();
    for i in incidents {
        if let Some(f) = free(Some(&i.fault.summary), lang)
            && !faults.contains(&f)
        {
            faults.push(f);
        }
    }
    if faults.len() < 2 {
        return None;
    }
    let n = faults.len();
    let listed: Vec<String> = faults
        .iter()
        .enumerate()
        .map(|(k, f)| match lang {
            Language::En => format!("Fault {}: {f}", k + 1),
            Language::Zh => format!("故障{}：{f}", k + 1),
        })
        .collect();
    Some(match lang {
        Language::En => format!("{n} faults on this asset. {}", listed.join(". ")),
        Language::Zh => format!("同一设备共{n}个故障。{}", listed.join("。")),
    })
}

/// An incident label, normalized, unless its name or value looks secret.
fn label(incident: &Incident, name: &str, lang: Language) -> Option<String> {
    if is_secret_key(name) {
        return None;
    }
    let value = incident.labels.get(name)?;
    free(Some(value), lang)
}

/// Free text, normalized; `None` when empty after dropping secrets.
fn free(text: Option<&String>, lang: Language) -> Option<String> {
    let text = normalize(text?, lang);
    let text = text.trim_end_matches(['.', '。', ';', '；', ',', '，', ' ']);
    (!text.trim().is_empty()).then(|| text.to_string())
}

/// An identifier, spelled; `None` when empty or when it looks like a credential.
fn ident(text: Option<&String>, lang: Language) -> Option<String> {
    let text = text?.trim();
    if text.is_empty() || is_secret_value(text) {
        return None;
    }
    Some(spell(text, lang))
}

/// Every template field that has a value for this incident.
fn fields(
    incident: &Incident,
    config: &BriefingConfig,
    lang: Language,
) -> HashMap<&'static str, String> {
    let a = &incident.asset;
    let f = &incident.fault;
    let zh = lang == Language::Zh;
    let sep = if zh { "，" } else { ", " };
    let list_sep = if zh { "；" } else { "; " };
    let mut out: HashMap<&'static str, String> = HashMap::new();
    let mut put = |name: &'static str, value: Option<String>| {
        if let Some(v) = value {
            out.insert(name, v);
        }
    };
    put("caller", free(config.caller.as_ref(), lang));
    put("callback", ident(config.callback.as_ref(), lang));
    let contract = ident(a.contract.as_ref(), lang);
    let tag = ident(a.tag.as_ref(), lang);
    let serial = ident(a.serial.as_ref(), lang);
    let instance = ident(a.instance_id.as_ref(), lang);
    let id = ident(Some(&incident.id), lang);
    put("contract", contract.clone());
    put("tag", tag.clone());
    put("serial", serial.clone());
    put("instance_id", instance.clone());
    put("id", id);
    put("vendor", free(a.vendor.as_ref(), lang));
    put("model", free(a.model.as_ref(), lang));
    put("os", free(a.os.as_ref(), lang));
    let site = free(a.site.as_ref(), lang);
    let room = free(a.room.as_ref(), lang);
    let rack = free(a.rack.as_ref(), lang);
    let unit = free(a.unit.as_ref(), lang);
    let region = free(a.region.as_ref(), lang);
    put("site", site.clone());
    put("room", room.clone());
    put("rack", rack.clone());
    put("unit", unit.clone());
    put("region", region.clone());
    let names: [&str; 6] = if zh {
        ["站点", "机房", "机柜", "U位", "云实例", "区域"]
    } else {
        [
            "site ",
            "room ",
            "rack ",
            "unit ",
            "cloud instance ",
            "region ",
        ]
    };
    let location: Vec<String> = [site, room, rack, unit, instance, region]
        .into_iter()
        .zip(names)
        .filter_map(|(v, name)| v.map(|v| format!("{name}{v}")))
        .collect();
    put(
        "location",
        (!location.is_empty()).then(|| location.join(sep)),
    );
    put("summary", free(Some(&f.summary), lang));
    put(
        "severity",
        Some(
            match (lang, incident.severity) {
                (Language::En, Severity::Info) => "information",
                (Language::En, Severity::Warning) => "warning",
                (Language::En, Severity::Major) => "major",
                (Language::En, Severity::Critical) => "critical",
                (Language::Zh, Severity::Info) => "提示",
                (Language::Zh, Severity::Warning) => "警告",
                (Language::Zh, Severity::Major) => "严重",
                (Language::Zh, Severity::Critical) => "紧急",
            }
            .to_string(),
        ),
    );
    put(
        "started",
        f.started_at
            .map(|at| started(at, a.timezone.as_deref(), lang)),
    );
    // The short form: UTC only.
    put("since", f.started_at.map(|at| since(at, lang)));
    let timeline: Vec<String> = f
        .timeline
        .iter()
        .filter_map(|t| free(Some(t), lang))
        .collect();
    put(
        "timeline",
        (!timeline.is_empty()).then(|| timeline.join(list_sep)),
    );
    put("last_change", free(f.last_change.as_ref(), lang));
    put(
        "pattern",
        f.pattern.map(|p| {
            match (lang, p) {
                (Language::En, Pattern::Constant) => "constant",
                (Language::En, Pattern::Intermittent) => "intermittent",
                (Language::Zh, Pattern::Constant) => "持续存在",
                (Language::Zh, Pattern::Intermittent) => "时有时无",
            }
            .to_string()
        }),
    );
    put("impact", free(f.impact.as_ref(), lang));
    put("loss_per_minute", free(f.loss_per_minute.as_ref(), lang));
    put("tried", free(f.tried.as_ref(), lang));
    put("request", free(f.request.as_ref(), lang));
    put("details", free(f.details.as_ref(), lang));
    let key_names: [&str; 4] = if zh {
        ["合同号", "资产标签", "序列号", "云实例"]
    } else {
        ["contract ", "asset tag ", "serial ", "instance "]
    };
    let key_ids: Vec<String> = [contract, tag, serial, ident(a.instance_id.as_ref(), lang)]
        .into_iter()
        .zip(key_names)
        .filter_map(|(v, name)| v.map(|v| format!("{name}{v}")))
        .collect();
    put(
        "key_ids",
        (!key_ids.is_empty()).then(|| key_ids.join(list_sep)),
    );
    out
}
