//! Which process owns a socket: the socket's inode appears as a `socket:[INODE]` link in
//! `/proc/PID/fd/`, as `ss -p` and `netstat -p` find it.

use std::collections::HashMap;
use std::fs;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub pid: u32,
    /// The process name (`/proc/PID/comm`).
    pub name: String,
    pub fd: u32,
}

/// Socket inode → the processes holding it (a socket shared across fork has several).
/// Processes we may not look into (not root) are skipped: their sockets show no owner.
pub fn socket_owners() -> HashMap<u32, Vec<Owner>> {
    let mut owners: HashMap<u32, Vec<Owner>> = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return owners;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let mut name = None;
        for fd_entry in fds.flatten() {
            let Ok(target) = fs::read_link(fd_entry.path()) else {
                continue;
            };
            let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(fd) = fd_entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let name = name
                .get_or_insert_with(|| {
                    fs::read_to_string(entry.path().join("comm"))
                        .map(|c| c.trim_end().to_owned())
                        .unwrap_or_default()
                })
                .clone();
            owners
                .entry(inode)
                .or_default()
                .push(Owner { pid, name, fd });
        }
    }
    owners
}
