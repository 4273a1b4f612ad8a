//! The SIP transports (UDP, TCP and TLS) and the demultiplexer that hands each message to its
//! call's task by Call-ID. Receive times are taken the moment a message is read, send times
//! the moment the bytes are handed to the kernel: the timeline holds against a capture.

use super::decode::{DecodeError, Decoded, decode};
use super::encode::encode_response_raw;
use super::redact::redact;
use super::tls::TlsClient;
use super::transport::Transport;
use crate::call::RequestHandle;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// One message for a call, stamped when it was read.
// Moved once through a channel per message; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Inbound {
    Message {
        at: Instant,
        from: SocketAddr,
        msg: Decoded,
    },
    /// The connection the call's messages travel on broke.
    TransportError(String),
    /// ICMP said a datagram we sent to `to` was not wanted (port or host unreachable), or the
    /// TCP connection to `to` ended. Sent to every call; each acts only if `to` is where its
    /// requests go.
    Unreachable { to: SocketAddr, error: String },
}

type CallTx = mpsc::UnboundedSender<Inbound>;
/// The sending half of a stream connection (plain TCP or TLS).
type Writer = Arc<tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>>;
type Reader = Box<dyn AsyncRead + Send + Unpin>;

struct Inner {
    transport: Transport,
    local: SocketAddr,
    udp: Option<UdpSocket>,
    tcp: Mutex<HashMap<SocketAddr, Writer>>,
    /// One connection attempt at a time: two calls starting together share the connection.
    connecting: tokio::sync::Mutex<()>,
    /// TLS: trust, verification and SNI for the connections we open.
    tls: Option<TlsClient>,
    /// TLS: the host name each destination address was resolved from (verified and sent as
    /// SNI on the connection to it).
    names: Mutex<HashMap<SocketAddr, String>>,
    calls: Mutex<HashMap<String, CallTx>>,
    handles: AtomicU64,
    user_agent: String,
    /// New INVITEs go here instead of a 403: `hotline sim-vendor`, and `hotline serve`'s
    /// callback line.
    accept: Mutex<Option<CallTx>>,
}

/// The process's SIP endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

/// Largest SIP message we accept over TCP (headers + body).
const MAX_MESSAGE: usize = 64 * 1024;
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection someone else opened to us is closed after this long without a byte (a
/// peer that keeps it for in-dialog requests sends CRLF keep-alives, RFC 5626 §4.4.1).
/// Our own connections to a trunk stay open: a call may be silent on SIP for an hour.
const TCP_INBOUND_IDLE: Duration = Duration::from_secs(120);
/// CRLF keep-alive on our TCP and TLS connections (RFC 5626 §4.4.1 double CRLF): NATs and
/// trunks keep a connection that carries something at least this often.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// Most connections others may hold open to us at once (finding 7: idle sockets used to
/// pile up until the process ran out of file descriptors).
const TCP_INBOUND_MAX: usize = 256;

impl Endpoint {
    /// Binds the transport and starts its receive loop. TLS trusts the system roots; see
    /// [`Self::bind_tls`] for a CA file or a fixed server name.
    pub async fn bind(
        addr: SocketAddr,
        transport: Transport,
        user_agent: &str,
    ) -> io::Result<Self> {
        let tls = match transport {
            Transport::Tls => Some(
                TlsClient::new(&Default::default())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?,
            ),
            _ => None,
        };
        Self::bind_with(addr, transport, user_agent, tls).await
    }

    /// Binds a TLS endpoint with its client settings.
    pub async fn bind_tls(addr: SocketAddr, user_agent: &str, tls: TlsClient) -> io::Result<Self> {
        Self::bind_with(addr, Transport::Tls, user_agent, Some(tls)).await
    }

    async fn bind_with(
        addr: SocketAddr,
        transport: Transport,
        user_agent: &str,
        tls: Option<TlsClient>,
    ) -> io::Result<Self> {
        let (udp, listener, local) = match transport {
            Transport::Udp => {
                let s = UdpSocket::bind(addr).await?;
                let local = s.local_addr()?;
                super::icmp::enable(&s, local.is_ipv4());
                (Some(s), None, local)
            }
            Transport::Tcp => {
                let l = TcpListener::bind(addr).await?;
                let local = l.local_addr()?;
                (None, Some(l), local)
            }
            Transport::Tls => {
                // SO_REUSEPORT: our connections to trunks leave from this port, the one our
                // Via and Contact name, so a proxy that looks for a connection to our Contact
                // finds (and reuses) the one we opened (RFC 5923's aim without the alias).
                let s = stream_socket(addr)?;
                s.bind(addr)?;
                let l = s.listen(64)?;
                let local = l.local_addr()?;
                (None, Some(l), local)
            }
        };
        let ep = Endpoint {
            inner: Arc::new(Inner {
                transport,
                local,
                udp,
                tcp: Mutex::new(HashMap::new()),
                connecting: tokio::sync::Mutex::new(()),
                tls,
                names: Mutex::new(HashMap::new()),
                calls: Mutex::new(HashMap::new()),
                handles: AtomicU64::new(1),
                user_agent: user_agent.to_string(),
                accept: Mutex::new(None),
            }),
        };
        match listener {
            Some(l) => {
                let ep2 = ep.clone();
                tokio::spawn(async move { ep2.accept_loop(l).await });
            }
            None => {
                let ep2 = ep.clone();
                tokio::spawn(async move { ep2.udp_loop().await });
            }
        }
        Ok(ep)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// The transport in use.
    pub fn transport(&self) -> Transport {
        self.inner.transport
    }

    /// Where to send a request for `uri` (see [`super::resolve`]); over TLS the host name is
    /// kept for the connection to that address (its certificate must name it; SNI).
    pub async fn resolve(&self, uri: &str) -> Result<SocketAddr, String> {
        let tls = self.inner.transport == Transport::Tls;
        let (addr, host) = super::resolve::resolve_host(uri, tls).await?;
        if tls {
            self.inner
                .names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(addr)
                .or_insert(host);
        }
        Ok(addr)
    }

    /// Routes messages with this Call-ID to the returned receiver until [`Self::unregister`].
    pub fn register(&self, call_id: &str) -> mpsc::UnboundedReceiver<Inbound> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock_calls().insert(call_id.to_string(), tx);
        rx
    }

    /// True while a task takes this Call-ID's messages (a retransmitted INVITE for a call
    /// already taken is not a new call).
    pub fn is_registered(&self, call_id: &str) -> bool {
        self.lock_calls().contains_key(call_id)
    }

    /// The user agent we answer with (`Server`).
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// Receives new INVITEs: the simulated vendor line, and `hotline serve`'s callback line
    /// (which screens each before anything is set up).
    pub fn accept_calls(&self) -> mpsc::UnboundedReceiver<Inbound> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.inner.accept.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        rx
    }

    /// Stops routing a Call-ID (the call's task is done).
    pub fn unregister(&self, call_id: &str) {
        self.lock_calls().remove(call_id);
    }

    fn lock_calls(&self) -> std::sync::MutexGuard<'_, HashMap<String, CallTx>> {
        // A panic while holding this lock would be a bug elsewhere; recover the map anyway.
        self.inner.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one message to `dest`; returns the instant the bytes were handed to the kernel.
    pub async fn send(&self, dest: SocketAddr, bytes: &[u8]) -> io::Result<Instant> {
        tracing::trace!(%dest, msg = %redact(bytes), "sip send");
        match (&self.inner.udp, self.inner.transport) {
            (Some(udp), _) => {
                // Stamped as the datagram is handed over: on loopback the answer can be read
                // by another thread before this one returns from the syscall.
                let at = Instant::now();
                udp.send_to(bytes, dest).await?;
                Ok(at)
            }
            (None, _) => {
                let conn = self.tcp_conn(dest).await?;
                let mut w = conn.lock().await;
                let at = Instant::now();
                let r = w.write_all(bytes).await;
                if let Err(e) = r {
                    self.tcp_lock().remove(&dest);
                    return Err(e);
                }
                Ok(at)
            }
        }
    }

    fn tcp_lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Writer>> {
        self.inner.tcp.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection to `dest`: the open one (in-dialog requests reuse it), else a new one
    /// (a dropped connection is re-opened by the next send).
    async fn tcp_conn(&self, dest: SocketAddr) -> io::Result<Writer> {
        if let Some(c) = self.tcp_lock().get(&dest) {
            return Ok(c.clone());
        }
        let _one = self.inner.connecting.lock().await;
        if let Some(c) = self.tcp_lock().get(&dest) {
            return Ok(c.clone());
        }
        let Some(tls) = &self.inner.tls else {
            let stream = tokio::time::timeout(TCP_CONNECT_TIMEOUT, TcpStream::connect(dest))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tcp connect timed out"))??;
            let _ = stream.set_nodelay(true);
            let (r, w) = stream.into_split();
            let w = self.adopt(Box::new(r), Box::new(w), dest, None);
            self.keep_alive(dest, &w);
            return Ok(w);
        };
        let host = self
            .inner
            .names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&dest)
            .cloned()
            .unwrap_or_else(|| dest.ip().to_string());
        let name = tls
            .name_for(&host)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let stream = tokio::time::timeout(TCP_CONNECT_TIMEOUT, self.connect_from_us(dest))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tcp connect timed out"))??;
        let _ = stream.set_nodelay(true);
        let stream = tls.handshake(stream, dest, name).await?;
        tracing::debug!(%dest, host, "sip tls connection up");
        let (r, w) = tokio::io::split(stream);
        let w = self.adopt(Box::new(r), Box::new(w), dest, None);
        self.keep_alive(dest, &w);
        Ok(w)
    }

    /// A TCP connection to `dest` from our listening port (see `bind_with`), or from any
    /// port when that one cannot be used for it (e.g. a TIME_WAIT of an earlier connection).
    async fn connect_from_us(&self, dest: SocketAddr) -> io::Result<TcpStream> {
        let local = self.inner.local;
        if local.is_ipv4() == dest.is_ipv4() {
            let bound = stream_socket(local).and_then(|s| s.bind(local).map(|_| s));
            match bound {
                Ok(s) => match s.connect(dest).await {
                    Ok(c) => return Ok(c),
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Err(e),
                    Err(e) => {
                        tracing::debug!(%dest, error = %e, "connect from the sip port failed; any port")
                    }
                },
                Err(e) => tracing::debug!(%dest, error = %e, "sip port not reusable; any port"),
            }
        }
        TcpStream::connect(dest).await
    }

    /// Sends a double CRLF every [`KEEPALIVE`] while the connection is ours; a failed
    /// write drops it (the next send reconnects) and tells the calls.
    fn keep_alive(&self, dest: SocketAddr, w: &Writer) {
        let ep = Arc::downgrade(&self.inner);
        let w = Arc::downgrade(w);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(KEEPALIVE).await;
                let (Some(inner), Some(w)) = (ep.upgrade(), w.upgrade()) else {
                    return;
                };
                let ep = Endpoint { inner };
                let current = ep.tcp_lock().get(&dest).is_some_and(|c| Arc::ptr_eq(c, &w));
                if !current {
                    return;
                }
                let r = w.lock().await.write_all(b"\r\n\r\n").await;
                if let Err(e) = r {
                    ep.tcp_lock().remove(&dest);
                    ep.unreachable(dest, &format!("keep-alive failed: {e}"));
                    return;
                }
            }
        });
    }

    /// Reads a connection's messages; `inbound` (a connection someone opened to us) carries
    /// its idle limit and its slot among [`TCP_INBOUND_MAX`].
    fn adopt(
        &self,
        r: Reader,
        w: Box<dyn AsyncWrite + Send + Unpin>,
        peer: SocketAddr,
        inbound: Option<(Duration, tokio::sync::OwnedSemaphorePermit)>,
    ) -> Writer {
        let w: Writer = Arc::new(tokio::sync::Mutex::new(w));
        self.tcp_lock().insert(peer, w.clone());
        let ep = self.clone();
        tokio::spawn(async move {
            let idle = inbound.as_ref().map(|(d, _)| *d);
            ep.tcp_read_loop(r, peer, idle).await;
            drop(inbound);
        });
        w
    }

    async fn accept_loop(self, l: TcpListener) {
        let slots = Arc::new(tokio::sync::Semaphore::new(TCP_INBOUND_MAX));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            match l.accept().await {
                Ok((s, peer)) if self.inner.transport == Transport::Tls => {
                    // hotline is a TLS client only (no certificate of its own): a peer sends
                    // in-dialog requests over the connection we opened, which leaves from
                    // this port. Anything opened to us is closed.
                    tracing::debug!(%peer, "inbound tls connection closed (client only)");
                    drop((s, permit));
                }
                Ok((s, peer)) => {
                    // SIP over TCP is request/response chatter: Nagle only adds delay.
                    let _ = s.set_nodelay(true);
                    let (r, w) = s.into_split();
                    self.adopt(
                        Box::new(r),
                        Box::new(w),
                        peer,
                        Some((TCP_INBOUND_IDLE, permit)),
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sip tcp accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn udp_loop(self) {
        let Some(udp) = &self.inner.udp else { return };
        let mut buf = vec![0u8; 65536];
        loop {
            match udp.recv_from(&mut buf).await {
                Ok((n, from)) => {
                    let at = Instant::now();
                    self.dispatch(at, from, &buf[..n]).await;
                }
                // With IP_RECVERR, an ICMP error surfaces here; the error queue says for
                // which destination, and the calls sending there fail at once.
                Err(e) => {
                    let errors = super::icmp::drain(udp);
                    if errors.is_empty() {
                        tracing::debug!(error = %e, "sip udp recv error");
                    }
                    for (to, error) in errors {
                        tracing::debug!(%to, %error, "icmp: destination unreachable");
                        self.unreachable(to, &error.to_string());
                    }
                }
            }
        }
    }

    async fn tcp_read_loop(self, mut r: Reader, peer: SocketAddr, idle: Option<Duration>) {
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = vec![0u8; 16384];
        let reason = loop {
            let read = async {
                match idle {
                    Some(d) => tokio::time::timeout(d, r.read(&mut chunk)).await.ok(),
                    None => Some(r.read(&mut chunk).await),
                }
            };
            let Some(read) = read.await else {
                break "idle".to_string();
            };
            match read {
                Ok(0) => break "connection closed".to_string(),
                Ok(n) => {
                    let at = Instant::now();
                    buf.extend_from_slice(&chunk[..n]);
                    loop {
                        match frame(&buf) {
                            Framed::Message(len) => {
                                let msg: Vec<u8> = buf.drain(..len).collect();
                                self.dispatch(at, peer, &msg).await;
                            }
                            Framed::KeepAlive(len) => {
                                buf.drain(..len);
                            }
                            Framed::Incomplete => break,
                        }
                    }
                    if buf.len() > MAX_MESSAGE {
                        break "message too large".to_string();
                    }
                }
                Err(e) => break e.to_string(),
            }
        };
        self.tcp_lock().remove(&peer);
        // A call still waiting for its first response fails now; others learn about it on
        // their next send (which reconnects).
        tracing::debug!(%peer, reason, "sip stream connection ended");
        let what = match self.inner.transport {
            Transport::Tls => "tls",
            _ => "tcp",
        };
        self.unreachable(peer, &format!("{what} connection ended: {reason}"));
    }

    /// Tells every call that `to` is not there (each checks whether it is its trunk).
    fn unreachable(&self, to: SocketAddr, error: &str) {
        for tx in self.lock_calls().values() {
            let _ = tx.send(Inbound::Unreachable {
                to,
                error: error.to_string(),
            });
        }
    }

    async fn dispatch(&self, at: Instant, from: SocketAddr, bytes: &[u8]) {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return; // RFC 5626 keep-alive
        }
        tracing::trace!(%from, msg = %redact(bytes), "sip recv");
        let handle = RequestHandle(self.inner.handles.fetch_add(1, Ordering::Relaxed));
        match decode(bytes, handle) {
            Ok(mut msg) => {
                if let Decoded::Response { resp, .. } = &mut msg {
                    resp.source = Some(from); // who may challenge is checked against it
                }
                let tx = self.lock_calls().get(msg.call_id()).cloned();
                match tx {
                    Some(tx) => {
                        let _ = tx.send(Inbound::Message { at, from, msg });
                    }
                    None => self.out_of_dialog(from, msg).await,
                }
            }
            Err(DecodeError::BadRequest { reason, raw }) => {
                tracing::debug!(%from, reason, "bad sip request");
                if let Some(raw) = raw {
                    let bytes =
                        encode_response_raw(&raw.0, 400, None, None, &self.inner.user_agent, None);
                    let _ = self.send(from, &bytes).await;
                }
            }
            Err(e) => tracing::debug!(%from, error = %e, "dropped unparseable sip message"),
        }
    }

    /// Messages for no call of ours. A new INVITE goes to whoever accepts calls (the callback
    /// line screens it: nothing it refuses starts anything); the rest is answered here.
    async fn out_of_dialog(&self, from: SocketAddr, msg: Decoded) {
        if let Decoded::Request { req, .. } = &msg
            && req.method == crate::call::Method::Invite
        {
            let accept = self
                .inner
                .accept
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(tx) = accept {
                let at = Instant::now();
                let _ = tx.send(Inbound::Message { at, from, msg });
                return;
            }
        }
        let Decoded::Request { req, raw, .. } = msg else {
            return; // a late response for a finished call
        };
        let status = match req.method {
            crate::call::Method::Ack => return,
            crate::call::Method::Options => 200,
            crate::call::Method::Invite => 403,
            _ => 481,
        };
        tracing::debug!(%from, method = %req.method, status, "out-of-dialog request");
        let bytes = encode_response_raw(&raw.0, status, None, None, &self.inner.user_agent, None);
        let _ = self.send(from, &bytes).await;
    }
}

/// A TCP socket for `addr`'s family with SO_REUSEADDR and SO_REUSEPORT (see `bind_with`).
fn stream_socket(addr: SocketAddr) -> io::Result<TcpSocket> {
    let s = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    #[cfg(unix)]
    s.set_reuseport(true)?;
    Ok(s)
}

enum Framed {
    Message(usize),
    KeepAlive(usize),
    Incomplete,
}

/// Finds one whole message at the start of a TCP stream buffer (RFC 3261 §18.3:
/// Content-Length is mandatory on stream transports).
fn frame(buf: &[u8]) -> Framed {
    let lead = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    if lead > 0 {
        return Framed::KeepAlive(lead);
    }
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Framed::Incomplete;
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let len = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| {
            let k = k.trim();
            k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("l")
        })
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let total = end + 4 + len.min(MAX_MESSAGE);
    if buf.len() >= total {
        Framed::Message(total)
    } else {
        Framed::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_stream_messages() {
        let m =
            b"SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabcSIP/2.0 180 Ringing\r\nl: 0\r\n\r\n";
        assert!(matches!(frame(m), Framed::Message(40)));
        assert!(matches!(frame(&m[40..]), Framed::Message(_)));
        assert!(matches!(frame(&m[..20]), Framed::Incomplete));
        assert!(matches!(frame(b"\r\n\r\nX"), Framed::KeepAlive(4)));
    }
}
