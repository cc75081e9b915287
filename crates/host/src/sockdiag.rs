//! TCP sockets of this network namespace, from the kernel through netlink sock_diag
//! (INET_DIAG), as `ss -ti` gets them: no parsing of /proc/net/tcp, no shelling out.

use std::io;
use std::net::{IpAddr, SocketAddr};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{
    nlas::Nla, ExtensionFlags, InetRequest, SocketId, StateFlags,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr as NlAddr};
use serde::Serialize;

use crate::tcpinfo::TcpInfo;

/// One TCP socket as the kernel reports it.
#[derive(Debug, Clone, Serialize)]
pub struct TcpSocket {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub state: &'static str,
    /// Established: bytes received and not yet read by the application. Listening: connections
    /// waiting in the accept queue.
    pub recv_q: u32,
    /// Established: bytes sent and not yet acknowledged, plus bytes not yet sent. Listening:
    /// the accept queue's size (backlog).
    pub send_q: u32,
    pub inode: u32,
    pub uid: u32,
    /// tcp_info; absent for sockets in TIME_WAIT and SYN_RECV (request sockets).
    pub info: Option<TcpInfo>,
    /// The socket's receive and send buffer sizes (SO_RCVBUF, SO_SNDBUF as the kernel sized
    /// them), from INET_DIAG_SKMEMINFO.
    pub rcvbuf: Option<u32>,
    pub sndbuf: Option<u32>,
    /// Bytes the receive queue holds in memory, including overhead (sk_rmem_alloc).
    pub rmem_alloc: Option<u32>,
    pub congestion: Option<String>,
}

/// The kernel's TCP state numbers (include/net/tcp_states.h).
fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "CLOSE",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW-SYN-RECV",
        _ => "UNKNOWN",
    }
}

/// Every TCP socket (IPv4 and IPv6) of the calling thread's network namespace.
pub fn tcp_sockets() -> io::Result<Vec<TcpSocket>> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&NlAddr::new(0, 0))?;
    let mut all = Vec::new();
    for family in [AF_INET, AF_INET6] {
        dump(&socket, family, &mut all)?;
    }
    Ok(all)
}

fn dump(socket: &Socket, family: u8, out: &mut Vec<TcpSocket>) -> io::Result<()> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut request = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::INFO | ExtensionFlags::SKMEMINFO | ExtensionFlags::CONG,
            states: StateFlags::all(),
            socket_id: if family == AF_INET {
                SocketId::new_v4()
            } else {
                SocketId::new_v6()
            },
        })
        .into(),
    );
    request.finalize();
    let mut buf = vec![0; request.buffer_len()];
    request.serialize(&mut buf);
    socket.send(&buf, 0)?;

    // A dump ends with NLMSG_DONE; each datagram holds whole messages. The bound only guards
    // against a kernel that never says done: no host has a million datagrams of sockets.
    for _ in 0..1_000_000 {
        let (datagram, _) = socket.recv_from_full()?;
        let mut offset = 0;
        while offset < datagram.len() {
            let message = NetlinkMessage::<SockDiagMessage>::deserialize(&datagram[offset..])
                .map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("sock_diag: {e}"))
                })?;
            let len = message.header.length as usize;
            match message.payload {
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(err) => return Err(err.to_io()),
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                    out.push(convert(&response));
                }
                _ => {}
            }
            if len == 0 {
                break;
            }
            // Messages are aligned to 4 bytes.
            offset += (len + 3) & !3;
        }
    }
    Err(io::Error::other("sock_diag: the dump never ended"))
}

fn convert(response: &netlink_packet_sock_diag::inet::InetResponse) -> TcpSocket {
    let h = &response.header;
    let id = &h.socket_id;
    let addr = |ip: IpAddr, port: u16| SocketAddr::new(ip, port);
    let mut socket = TcpSocket {
        local: addr(id.source_address, id.source_port),
        peer: addr(id.destination_address, id.destination_port),
        state: state_name(h.state),
        recv_q: h.recv_queue,
        send_q: h.send_queue,
        inode: h.inode,
        uid: h.uid,
        info: None,
        rcvbuf: None,
        sndbuf: None,
        rmem_alloc: None,
        congestion: None,
    };
    for nla in &response.nlas {
        match nla {
            Nla::TcpInfo(bytes) => socket.info = TcpInfo::parse(bytes),
            Nla::MemInfo(mem) => {
                socket.rcvbuf = Some(mem.receive_queue_max);
                socket.sndbuf = Some(mem.send_queue_max);
                socket.rmem_alloc = Some(mem.receive_queue);
            }
            Nla::Congestion(name) => socket.congestion = Some(name.clone()),
            _ => {}
        }
    }
    socket
}
