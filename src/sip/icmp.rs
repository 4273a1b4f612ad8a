//! ICMP errors on the shared SIP UDP socket (Linux). An unconnected UDP socket hears nothing
//! of ICMP port unreachable unless `IP_RECVERR` is set; with it, the kernel queues each error
//! with the destination of the datagram that caused it, read with `MSG_ERRQUEUE`. That is how
//! a call learns at once that its trunk is not there (issue 10).

use std::net::SocketAddr;
use tokio::net::UdpSocket;

/// Asks the kernel to report ICMP errors on `s` (best effort: without it, the INVITE's
/// 2 s Trying timer still catches a dead trunk).
#[cfg(target_os = "linux")]
pub fn enable(s: &UdpSocket, ipv4: bool) {
    use nix::sys::socket::{setsockopt, sockopt};
    let r = if ipv4 {
        setsockopt(s, sockopt::Ipv4RecvErr, &true)
    } else {
        setsockopt(s, sockopt::Ipv6RecvErr, &true)
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, "IP_RECVERR not available: unreachable trunks fail after 2 s");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn enable(_s: &UdpSocket, _ipv4: bool) {}

/// Drains the socket's error queue: for each queued ICMP error, the destination we sent to
/// and the error. Never blocks; an empty queue gives an empty list.
#[cfg(target_os = "linux")]
pub fn drain(s: &UdpSocket) -> Vec<(SocketAddr, std::io::Error)> {
    use nix::libc;
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
    use std::os::fd::AsRawFd;
    let mut out = Vec::new();
    // Bounded: the queue is bounded by the receive buffer anyway.
    for _ in 0..256 {
        let mut buf = [0u8; 64];
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let mut cmsg = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
        let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
        let Ok(msg) = recvmsg::<SockaddrStorage>(s.as_raw_fd(), &mut iov, Some(&mut cmsg), flags)
        else {
            break; // EAGAIN: nothing (more) queued
        };
        let dest = msg.address.and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| SocketAddr::V4((*v4).into()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into())))
        });
        let errno = msg.cmsgs().ok().and_then(|mut c| {
            c.find_map(|m| match m {
                ControlMessageOwned::Ipv4RecvErr(e, _) | ControlMessageOwned::Ipv6RecvErr(e, _) => {
                    Some(e.ee_errno as i32)
                }
                _ => None,
            })
        });
        if let (Some(dest), Some(errno)) = (dest, errno) {
            out.push((dest, std::io::Error::from_raw_os_error(errno)));
        }
    }
    out
}

#[cfg(not(target_os = "linux"))]
pub fn drain(_s: &UdpSocket) -> Vec<(SocketAddr, std::io::Error)> {
    Vec::new()
}
