//! The live host side of tcpsleuth (Linux): the TCP sockets as the kernel sees them, through
//! netlink sock_diag with tcp_info, their owning processes, what their counters say is wrong,
//! and an audit of the TCP settings and NIC offloads that the diagnoses keep pointing at.

pub mod audit;
pub mod finding;
pub mod owners;
pub mod settings;
pub mod sockdiag;
pub mod sockets;
pub mod tcpinfo;

pub use finding::HostFinding;
