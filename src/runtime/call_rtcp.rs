//! The call task's RTCP: its socket (RTP's port + 1, or none with `a=rtcp-mux`), a report
//! when one is due (SRTCP when the call runs SRTP), and what arrives fed to the pure
//! `media::rtcp::Rtcp`.

use crate::media::rtcp::{NtpClock, Rtcp, RtcpPeer, RtcpSummary, Sent};
use crate::media::session::MediaSession;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;

pub(super) struct RtcpLink {
    rtcp: Rtcp,
    /// Our RTCP socket (RTP port + 1); `None` while muxed or before media starts.
    sock: Option<UdpSocket>,
    peer: RtcpPeer,
    /// Where the far end's RTCP comes from (symmetric RTCP, RFC 4961): replies go there.
    from: Option<SocketAddr>,
    /// RTCP datagrams that did not authenticate (SRTCP) or parse.
    pub rejected: u64,
}

impl RtcpLink {
    pub fn new(ssrc: u32) -> Self {
        let since_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let clock = NtpClock::new(Instant::now(), since_unix);
        // RFC 7022: a random CNAME per call; nothing to learn from it.
        let cname = format!("{:016x}@hotline", rand::random::<u64>());
        RtcpLink {
            rtcp: Rtcp::new(ssrc, cname, clock),
            sock: None,
            peer: RtcpPeer::default(),
            from: None,
            rejected: 0,
        }
    }

    /// Media started (or was re-targeted) towards a peer with this RTCP address.
    pub fn start(&mut self, now: Instant, rtp_local: Option<SocketAddr>, peer: RtcpPeer) {
        if peer != self.peer {
            self.from = None;
        }
        self.peer = peer;
        if !peer.mux
            && self.sock.is_none()
            && let Some(local) = rtp_local
        {
            let addr = SocketAddr::new(local.ip(), local.port().wrapping_add(1));
            match bind(addr) {
                Ok(s) => self.sock = Some(s),
                // The call goes on without RTCP; the record shows none sent.
                Err(e) => tracing::warn!(%addr, error = %e, "rtcp port not bound"),
            }
        }
        self.rtcp.start(now);
    }

    pub fn stop(&mut self) {
        self.rtcp.stop();
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.rtcp.poll_timeout()
    }

    pub fn has_socket(&self) -> bool {
        self.sock.is_some()
    }

    /// Waits for a datagram on the RTCP socket (pending forever without one).
    pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        match &self.sock {
            Some(s) => s.recv_from(buf).await,
            None => std::future::pending().await,
        }
    }

    /// Feeds the last RTP packet the session accepted.
    pub fn on_rtp(&mut self, at: Instant, media: &mut MediaSession) {
        if let Some((ssrc, seq, ts)) = media.take_accepted() {
            self.rtcp.on_rtp(at, ssrc.0, seq.0, ts.0);
        }
    }

    /// An RTCP datagram from `from` (on our RTCP socket, or muxed on RTP's).
    pub fn input(&mut self, at: Instant, from: SocketAddr, buf: &[u8], media: &mut MediaSession) {
        // Only from the peer's host: RTCP cannot be injected from elsewhere.
        let Some(rtp) = media.send_target() else {
            return;
        };
        if from.ip() != rtp.ip() {
            self.rejected += 1;
            return;
        }
        match media
            .unprotect_rtcp(buf)
            .map(|plain| self.rtcp.receive(at, &plain))
        {
            Some(Ok(())) => self.from = Some(from),
            _ => self.rejected += 1,
        }
    }

    /// Sends our report if one is due.
    pub async fn tick(&mut self, now: Instant, media: &mut MediaSession, rtp_sock: &UdpSocket) {
        let Some(rtp) = media.send_target() else {
            return;
        };
        let (stats, ..) = media.stats();
        let sent = Sent {
            packets: stats.packets_sent,
            octets: stats.octets_sent,
            rtp_ts: media.rtp_now().0,
        };
        let Some(report) = self.rtcp.report(now, sent) else {
            return;
        };
        let Some(wire) = media.protect_rtcp(report) else {
            return;
        };
        let to = self.from.unwrap_or_else(|| self.peer.target(rtp));
        let sock = match (&self.sock, self.peer.mux) {
            (Some(s), false) => s,
            _ => rtp_sock,
        };
        if let Err(e) = sock.send_to(&wire, to).await {
            tracing::debug!(%to, error = %e, "rtcp not sent");
        }
    }

    /// The figures for the call record; `None` when no RTCP went either way.
    pub fn summary(&self) -> Option<RtcpSummary> {
        let s = self.rtcp.summary();
        (s.reports_sent > 0 || s.reports_received > 0).then_some(s)
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let s = std::net::UdpSocket::bind(addr)?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s)
}
