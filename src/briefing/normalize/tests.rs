//! Table tests for normalization, English and Mandarin.

use super::*;
use crate::config::Language::{En, Zh};

#[test]
fn spells_identifiers() {
    let cases = [
        (
            "AT-004711",
            En,
            "Alpha Tango, dash, zero zero four, seven one one",
        ),
        ("AT-004711", Zh, "A T，杠，零零四，七幺幺"),
        (
            "CZJ93801XY",
            En,
            "Charlie Zulu Juliet, nine three eight, zero one X-ray Yankee",
        ),
        ("CZJ93801XY", Zh, "C Z J，九三八，零幺 X Y"),
        ("12345", En, "one two three, four five"),
        ("1234567", Zh, "幺二三，四五六七"),
        (
            "+1 555 0100 999",
            En,
            "plus, one, five five five, zero one zero zero, nine nine nine",
        ),
        ("+1 555 0100 999", Zh, "加，幺，五五五，零幺零零，九九九"),
        ("i-0a1b", En, "India, dash, zero Alpha one Bravo"),
        ("case#42", En, "Charlie Alpha Sierra Echo, hash, four two"),
        ("", En, ""),
    ];
    for (id, lang, want) in cases {
        assert_eq!(spell(id, lang), want, "{id} in {lang:?}");
    }
}

#[test]
fn numbers_in_words() {
    let en = [
        (0, "zero"),
        (7, "seven"),
        (21, "twenty-one"),
        (100, "one hundred"),
        (380, "three hundred eighty"),
        (2000, "two thousand"),
        (
            1_234_567,
            "one million two hundred thirty-four thousand five hundred sixty-seven",
        ),
    ];
    for (n, want) in en {
        assert_eq!(en_cardinal(n), want);
    }
    let zh = [
        (0, "零"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (105, "一百零五"),
        (110, "一百一十"),
        (2026, "二千零二十六"),
        (10_001, "一万零一"),
        (100_000, "十万"),
        (120_000_000, "一亿二千万"),
        (100_000_010, "一亿零一十"),
    ];
    for (n, want) in zh {
        assert_eq!(zh_cardinal(n), want, "{n}");
    }
    let ordinals = [
        (1, "first"),
        (2, "second"),
        (12, "twelfth"),
        (20, "twentieth"),
        (23, "twenty-third"),
        (31, "thirty-first"),
    ];
    for (n, want) in ordinals {
        assert_eq!(en_ordinal(n), want);
    }
    let years = [
        (2026, "twenty twenty-six"),
        (2005, "two thousand five"),
        (1999, "nineteen ninety-nine"),
        (1905, "nineteen oh five"),
        (1900, "nineteen hundred"),
    ];
    for (y, want) in years {
        assert_eq!(en_year(y), want);
    }
    assert_eq!(zh_year(2026), "二零二六");
}

#[test]
fn times_dates_durations() {
    let cases = [
        ((3, 12), En, "three twelve a.m."),
        ((15, 5), En, "three oh five p.m."),
        ((0, 0), En, "midnight"),
        ((12, 0), En, "noon"),
        ((21, 0), En, "nine p.m."),
        ((3, 12), Zh, "三点十二分"),
        ((15, 5), Zh, "十五点零五分"),
        ((8, 0), Zh, "八点整"),
    ];
    for ((h, m), lang, want) in cases {
        assert_eq!(time(h, m, lang), want);
    }
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    assert_eq!(
        date(day, En),
        "Thursday, November twenty-sixth, twenty twenty-six"
    );
    assert_eq!(date(day, Zh), "二零二六年十一月二十六日，星期四");
    let durations = [
        ("15m", En, Some("fifteen minutes")),
        ("2h30m", En, Some("two hours and thirty minutes")),
        ("1h", En, Some("one hour")),
        ("250ms", En, Some("two hundred fifty milliseconds")),
        ("2h30m", Zh, Some("两小时三十分钟")),
        ("90s", Zh, Some("九十秒")),
        ("15", En, None),
        ("m15", En, None),
        ("15x", En, None),
    ];
    for (text, lang, want) in durations {
        assert_eq!(duration(text, lang).as_deref(), want, "{text}");
    }
}

#[test]
fn started_in_utc_and_site_time() {
    let at = "2026-11-26T03:12:00Z".parse().unwrap();
    assert_eq!(
        started(at, Some("Europe/Berlin"), En),
        "Thursday, November twenty-sixth, twenty twenty-six, at three twelve a.m. UTC; \
         that is four twelve a.m. site local time"
    );
    assert_eq!(
        started(at, Some("America/New_York"), En),
        "Thursday, November twenty-sixth, twenty twenty-six, at three twelve a.m. UTC; \
         that is Wednesday, November twenty-fifth, twenty twenty-six, ten twelve p.m. site local time"
    );
    assert_eq!(
        started(at, Some("Asia/Shanghai"), Zh),
        "UTC时间二零二六年十一月二十六日，星期四，三点十二分；当地时间十一点十二分"
    );
    // An unknown zone is left out, not an error.
    assert_eq!(started(at, Some("Mars/Olympus"), En), instant_utc(at, En));
}

#[test]
fn free_text_table() {
    let cases = [
        // units, numbers, durations
        ("disk 3 failed", En, "disk three failed"),
        (
            "500GB free, 95% used",
            En,
            "five hundred gigabytes free, ninety-five percent used",
        ),
        ("2 TB left", En, "two terabytes left"),
        ("1 GB", En, "one gigabyte"),
        (
            "latency 250ms at 70°C",
            En,
            "latency two hundred fifty milliseconds at seventy degrees Celsius",
        ),
        (
            "loss EUR 2,000 per minute",
            En,
            "loss euros two thousand per minute",
        ),
        ("load 1.5", En, "load one point five"),
        (
            "down for 2h30m.",
            En,
            "down for two hours and thirty minutes.",
        ),
        ("磁盘 95% 已用", Zh, "磁盘 百分之九十五 已用"),
        ("剩余 500GB", Zh, "剩余 五百吉字节"),
        ("延迟 250ms", Zh, "延迟 二百五十毫秒"),
        // identifiers and case numbers
        (
            "change CHG-88121 done",
            En,
            "change Charlie Hotel Golf, dash, eight eight one, two one done",
        ),
        (
            "ProLiant DL380 Gen10",
            En,
            "ProLiant Delta Lima, three eight zero Gen, one zero",
        ),
        (
            "physical disk 1I:1:3",
            En,
            "physical disk one, India, colon, one, colon, three",
        ),
        (
            "case 0012345",
            En,
            "case zero zero one, two three four five",
        ),
        ("工单 INC0042", Zh, "工单 I N C，零零四二"),
        // colon-separated hardware ids are identifiers, not times (issue 20.8)
        (
            "physical disk 0:1:3 failed",
            En,
            "physical disk zero, colon, one, colon, three failed",
        ),
        ("ports 3:4 down", En, "ports three, colon, four down"),
        ("ratio 3:4", En, "ratio three, colon, four"),
        (
            "disk 0:01:03 rebuilding",
            En,
            "disk zero, colon, zero one, colon, zero three rebuilding",
        ),
        ("port 12:30,", En, "port one two, colon, three zero,"),
        ("Slots 1:10 empty", En, "Slots one, colon, one zero empty"),
        ("磁盘 0:1:3 故障", Zh, "磁盘 零，冒号，幺，冒号，三 故障"),
        ("端口 3:4", Zh, "端口 三，冒号，四"),
        // signed numbers with units keep the sign, the number and the unit
        (
            "latency +40% since noon",
            En,
            "latency plus forty percent since noon",
        ),
        ("temp -3°C", En, "temp minus three degrees Celsius"),
        (
            "throughput -12.5%",
            En,
            "throughput minus twelve point five percent",
        ),
        ("+2 TB", En, "plus two terabytes"),
        ("-5 %", En, "minus five percent"),
        ("延迟 +40%", Zh, "延迟 正百分之四十"),
        // times and dates
        (
            "since 2024-05-02T21:10:00Z",
            En,
            "since Thursday, May second, twenty twenty-four, at nine ten p.m. UTC",
        ),
        ("at 03:05 today", En, "at three oh five a.m. today"),
        (
            "at 9:05, then 21:10:30",
            En,
            "at nine oh five a.m., then nine ten p.m.",
        ),
        ("于 9:05", Zh, "于 九点零五分"),
        ("at 21:10Z", En, "at nine ten p.m. UTC"),
        ("2024-05-02 变更", Zh, "二零二四年五月二日，星期四 变更"),
        // hosts and URLs
        (
            "see https://runbooks.example.net/hw/raid?x=1",
            En,
            "see runbooks, dot, example, dot, net",
        ),
        (
            "host db-prod-07.fra1.example.net:9100 down",
            En,
            "host Delta Bravo, dash, prod, dash, zero seven, dot, fra, one, dot, example, dot, net down",
        ),
        (
            "ip 10.0.0.1",
            En,
            "ip one zero, dot, zero, dot, zero, dot, one",
        ),
        (
            "主机 web.example.com 宕机",
            Zh,
            "主机 web，点，example，点，com 宕机",
        ),
        ("mail ops@example.com", En, "mail ops at example, dot, com"),
        // secrets
        ("password: hunter2 was reset", En, "was reset"),
        ("login with token=abc123def", En, "login with"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU ok",
            En,
            "ok",
        ),
        ("key sk-proj-AbCdEf0123456789xyz leaked", En, "key leaked"),
        (
            "fetch https://admin:s3cr3t@db.example.com/x now",
            En,
            "fetch now",
        ),
        (
            "blob 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 end",
            En,
            "blob end",
        ),
        (
            "routing R0UT1NGKEY0123456789abcdef012345 x",
            En,
            "routing x",
        ),
        ("密码: hunter2 已重置", Zh, "已重置"),
        ("令牌：abc 失效", Zh, "失效"),
        ("认证 password=秘密 失败", Zh, "认证 失败"),
    ];
    for (text, lang, want) in cases {
        assert_eq!(normalize(text, lang), want, "{text:?} in {lang:?}");
    }
}

#[test]
fn secret_detection_table() {
    let secrets = [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "xoxb-1234-5678-abcdefghijkl",
        "postgres://app:pa55w0rd@db.internal:5432/prod",
        "R0UT1NGKEY0123456789abcdef012345",
        "dGhpcyBpcyBhIHNlY3JldA==",
        "api_key=12345678",
        "0123456789abcdef0123456789abcdef",
    ];
    for s in secrets {
        assert!(is_secret_value(s), "{s} should be secret");
    }
    let plain = [
        "HardwareRaidDegraded",
        "EC2InstanceStatusCheckFailed",
        "i-0a1b2c3d4e5f67890",
        "CZJ93801XY",
        "db-prod-07.fra1.example.net",
        "https://runbooks.example.net/hw/raid-degraded",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "HPE-PC-2231-88812",
    ];
    for s in plain {
        assert!(!is_secret_value(s), "{s} should not be secret");
    }
    for key in [
        "db_password",
        "X-Api-Key",
        "routing_key",
        "SECRET",
        "bearer_token",
    ] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in ["asset_tag", "serial_number", "instance", "summary"] {
        assert!(!is_secret_key(key), "{key}");
    }
}
