//! Credentials never reach a log: Authorization headers are masked before tracing a message.

/// Returns the message as text with `Authorization` / `Proxy-Authorization` values masked.
pub fn redact(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("authorization:") || lower.starts_with("proxy-authorization:") {
            let name = line.split(':').next().unwrap_or("Authorization");
            out.push_str(name);
            out.push_str(": <redacted>\r\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_credentials() {
        let m = b"INVITE sip:a@b SIP/2.0\r\nAuthorization: Digest username=\"u\", response=\"x\"\r\nproxy-authorization: Digest r\r\n\r\n";
        let r = super::redact(m);
        assert!(!r.contains("username"));
        assert!(!r.contains("Digest r"));
        assert!(r.contains("INVITE sip:a@b"));
    }
}
