//! The `hotline` command: parse the CLI, set up logging, hand over to `hotline::cli`.

use clap::{Parser, Subcommand};
use hotline::call::CallRecord;
use hotline::cli::{self, DialArgs};
use hotline::config::parse_duration;
use hotline::runtime::DialError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "Dials the failed asset's vendor, walks its menu, briefs, records and times it."
)]
struct Cli {
    /// Log format on stderr: text, or json (one object per line, for log shippers).
    #[arg(
        long,
        global = true,
        env = "HOTLINE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Place one call to a whitelisted contact and print its record as JSON.
    Dial {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// Dialplan id (file stem in the dialplans folder).
        dialplan: String,
        /// Contact id (default: the dialplan's first contact).
        #[arg(long)]
        contact: Option<String>,
        /// WAV to play as the briefing (any rate, mono or stereo).
        #[arg(long)]
        play: Option<PathBuf>,
        /// Incident to brief from: the incident model or any webhook body (detected).
        #[arg(long)]
        incident: Option<PathBuf>,
        /// Longest the call stays up after answer, e.g. 90s.
        #[arg(long, default_value = "90s", value_parser = duration)]
        max_duration: Duration,
        /// Menu placeholder value, e.g. --var contract_digits=12345.
        #[arg(long = "var", value_parser = var)]
        vars: Vec<(String, String)>,
        /// Override [sip] bind, e.g. 127.0.0.1:0 to dial next to a running `hotline serve`.
        #[arg(long)]
        sip: Option<SocketAddr>,
    },
    /// Run the service: webhooks in, escalation ladders out, API, metrics.
    Serve {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// Override [http] listen, e.g. 127.0.0.1:0.
        #[arg(long)]
        http: Option<SocketAddr>,
        /// Override [sip] bind.
        #[arg(long)]
        sip: Option<SocketAddr>,
    },
    /// Validate hotline.toml and every dialplan. Exit 0 ok, 2 errors, 1 warnings with --strict.
    Check {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// Warn when a number was last verified longer ago than this many days.
        #[arg(long, default_value_t = 365)]
        max_age_days: i64,
        /// Fail (exit 1) on warnings too, for CI.
        #[arg(long)]
        strict: bool,
    },
    /// Send OPTIONS through one trunk (its transport, TLS and credentials) and print what
    /// worked. Exit 0 when it answered, 1 when not, 2 when the test could not start.
    TrunkTest {
        /// The trunk's name (`[[trunks]] name`, or `sip` for `[sip]`).
        name: String,
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// Our SIP side (default: `[sip] bind`'s address, any port).
        #[arg(long)]
        sip: Option<SocketAddr>,
        /// How long to wait for the response.
        #[arg(long, default_value = "5s", value_parser = duration)]
        timeout: Duration,
    },
    /// Run a simulated vendor support line (for the demo and drills).
    SimVendor {
        #[arg(long, default_value = "127.0.0.1:5090")]
        bind: SocketAddr,
        #[arg(long, default_value = "udp")]
        transport: String,
        #[arg(long, default_value = "2s", value_parser = duration)]
        ring: Duration,
        #[arg(long, default_value = "10s", value_parser = duration)]
        digit_timeout: Duration,
        #[arg(long, default_value = "30s", value_parser = duration)]
        hangup_after: Duration,
        /// Dialling sip:hold@…: hold music and announcements this long before a person.
        #[arg(long, default_value = "12s", value_parser = duration)]
        hold: Duration,
    },
    /// Print an incident's briefing and write it as 8 kHz speech.
    Brief {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// Dialplan id: its [briefing] table picks language, template and engine.
        #[arg(long)]
        dialplan: String,
        /// Incident JSON file.
        #[arg(long)]
        incident: PathBuf,
        /// Where to write the audio (8 kHz mono 16-bit WAV).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Recompute the integrity chain and every sealed recording and timeline; name what was
    /// changed, added or removed. Exit 0 verified, 1 problems found, 2 setup error.
    Verify {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// A head hash printed by an earlier run: check the chain still contains it.
        #[arg(long = "head")]
        heads: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete recordings sealed longer ago than --older-than, each after a tombstone in the
    /// integrity chain (timelines and records stay; `verify` stays clean).
    Prune {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// e.g. 400d, 8760h.
        #[arg(long = "older-than")]
        older_than: String,
        /// Print what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the store while hotline runs (SQLite online backup) with the chain head.
    Backup {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        /// Folder to write `hotline.db` and `chain-head.json` into (created; must not hold a
        /// `hotline.db` already).
        dir: PathBuf,
    },
    /// Print what the listener hears in a recording: silence, tone, music, speech, recorded
    /// prompts, probe and reply, the person. 8 kHz WAV: mono (the vendor) or a call
    /// recording (left hotline, right the vendor).
    Listen {
        /// The WAV file.
        file: PathBuf,
    },
    /// Call the simulated vendor on loopback and show the record.
    Demo {
        #[arg(long, default_value = "hotline.toml")]
        config: PathBuf,
        #[arg(long, default_value = "127.0.0.1:5090")]
        vendor: SocketAddr,
    },
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected name=value, got \"{s}\""))
}

fn print_record(r: &CallRecord) -> ExitCode {
    match serde_json::to_string_pretty(r) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("hotline: cannot print the record: {e}"),
    }
    let code = r
        .termination
        .as_ref()
        .map(|t| t.result.exit_code())
        .unwrap_or(5);
    ExitCode::from(code as u8)
}

fn setup_error(e: DialError) -> ExitCode {
    eprintln!("hotline: {e}");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "hotline=info".into());
    // Colour only for a person at a terminal: journald, files and pipes get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli.cmd {
        Cmd::Dial {
            config,
            dialplan,
            contact,
            play,
            incident,
            max_duration,
            vars,
            sip,
        } => {
            let args = DialArgs {
                sip,
                config,
                dialplan,
                contact,
                play,
                max_duration,
                vars: vars.into_iter().collect::<HashMap<_, _>>(),
                incident,
            };
            match cli::dial(args).await {
                Ok(r) => print_record(&r),
                Err(e) => setup_error(e),
            }
        }
        Cmd::Serve { config, http, sip } => {
            match cli::serve(cli::ServeArgs { config, http, sip }).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotline: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Check {
            config,
            max_age_days,
            strict,
        } => {
            let today = chrono::Utc::now().date_naive();
            let report =
                hotline::dialplan::check(&config, today, chrono::TimeDelta::days(max_age_days));
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            let (errors, warnings) = (report.errors.len(), report.warnings.len());
            if !report.is_ok() {
                eprintln!("{}: {errors} errors, {warnings} warnings", config.display());
                ExitCode::from(2)
            } else if strict && warnings > 0 {
                eprintln!(
                    "{}: {warnings} warnings (--strict fails on warnings)",
                    config.display()
                );
                ExitCode::from(1)
            } else {
                eprintln!("ok: {} ({warnings} warnings)", config.display());
                ExitCode::SUCCESS
            }
        }
        Cmd::SimVendor {
            bind,
            transport,
            ring,
            digit_timeout,
            hangup_after,
            hold,
        } => {
            let transport = match transport.as_str() {
                "udp" => hotline::sip::Transport::Udp,
                "tcp" => hotline::sip::Transport::Tcp,
                other => {
                    eprintln!("hotline: unknown transport \"{other}\" (udp or tcp)");
                    return ExitCode::from(2);
                }
            };
            let args = cli::SimVendorArgs {
                bind,
                transport,
                ring,
                digit_timeout,
                hangup_after,
                hold,
            };
            match cli::sim_vendor(args, None).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotline: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Brief {
            config,
            dialplan,
            incident,
            out,
        } => {
            let args = cli::BriefArgs {
                config,
                dialplan,
                incident,
                out,
            };
            match cli::brief(&args).await {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e @ cli::BriefError::Input(_)) => {
                    eprintln!("hotline: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("hotline: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Prune {
            config,
            older_than,
            dry_run,
        } => {
            let age = match hotline::config::parse_duration(&older_than) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: --older-than {older_than}: {e}");
                    return ExitCode::from(2);
                }
            };
            match hotline::audit::retention::prune_config(&config, age, dry_run).await {
                Ok(r) => {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Backup { config, dir } => match backup(&config, &dir).await {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Verify {
            config,
            heads,
            json,
        } => match hotline::audit::verify_config(&config, &heads).await {
            Ok(r) => {
                if json {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                } else {
                    for p in &r.problems {
                        println!("FAIL {p}");
                    }
                    if !r.unsealed_live.is_empty() {
                        println!(
                            "note: {} calls not sealed yet (live, or cut short by a stop the \
                             next start recovers): {}",
                            r.unsealed_live.len(),
                            r.unsealed_live.join(", ")
                        );
                    }
                    println!(
                        "{}: {} chain entries, {} calls sealed of {} in the store, {} files; head {}",
                        if r.ok() { "verified" } else { "NOT verified" },
                        r.entries,
                        r.calls,
                        r.stored_calls,
                        r.files,
                        r.head.as_deref().unwrap_or("(empty)")
                    );
                }
                if r.ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("hotline: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::TrunkTest {
            name,
            config,
            sip,
            timeout,
        } => {
            let args = cli::TrunkTestArgs {
                config,
                name,
                sip,
                timeout,
            };
            match cli::trunk_test(args).await {
                Ok(report) => {
                    print!("{}", report.text);
                    if report.ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("hotline: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Listen { file } => match cli::listen(&file) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hotline: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Demo { config, vendor } => match cli::demo(cli::DemoArgs { config, vendor }).await {
            Ok(summary) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary).unwrap_or_default()
                );
                let done = summary["ladder_state"] == "done";
                eprintln!(
                    "\nladder {}; recordings and timelines: see \"calls\" above; \
                     browse with `hotline serve` + http://127.0.0.1:8080/console",
                    summary["ladder_state"]
                );
                if done {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("hotline: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// `hotline backup`: the store copied with the online backup API, and its chain head.
async fn backup(config: &std::path::Path, dir: &std::path::Path) -> Result<String, String> {
    let cfg = hotline::config::load(config).map_err(|e| e.to_string())?;
    if cfg.store.url.is_some() {
        return Err("the store is PostgreSQL: back it up with pg_dump".into());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dst = dir.join("hotline.db");
    if dst.exists() {
        return Err(format!(
            "{} exists: back up into a new folder",
            dst.display()
        ));
    }
    let src = cfg.store.path.clone();
    let copy = dst.clone();
    let head = tokio::task::spawn_blocking(move || hotline::store::backup_database(&src, &copy))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{}: {e}", cfg.store.path.display()))?;
    let v = serde_json::json!({
        "at": chrono::Utc::now().to_rfc3339(),
        "store": cfg.store.path,
        "backup": dst,
        "chain_entries": head.seq,
        "chain_head": head.hash,
        "recordings": cfg.recording.dir,
    });
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    std::fs::write(dir.join("chain-head.json"), &text)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(text)
}
