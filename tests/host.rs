//! `tcpsleuth host` in a network namespace with settings changed on purpose: each finding is
//! there, and running the command it recommends makes it go away. Needs root; without it the
//! test says it was skipped.

mod netns;

use netns::Pair;
use serde_json::Value;

fn audit(pair: &Pair, ns: &str) -> Value {
    let out = pair.tcpsleuth(ns, &["host", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn with_id<'a>(doc: &'a Value, id: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"] == id)
        .collect()
}

/// Runs a recommended command ("sysctl -w NAME=VALUE", "ethtool -K …") in the namespace, as a
/// user would paste it (a trailing `# comment` is the shell's).
fn run_advice(pair: &Pair, ns: &str, command: &str) {
    let command = command.split(" #").next().unwrap_or(command);
    let command = command
        .strip_prefix("while capturing, to see the packets as sent: ")
        .unwrap_or(command);
    pair.exec(ns, &["sh", "-c", command]);
}

#[test]
fn each_setting_finding_goes_away_with_the_command_it_recommends() {
    if netns::skip_unless_root("each_setting_finding_goes_away") {
        return;
    }
    let pair = Pair::new();
    let ns = pair.client.clone();
    pair.exec(&ns, &["sysctl", "-qw", "net.ipv4.tcp_sack=0"]);
    pair.exec(&ns, &["sysctl", "-qw", "net.ipv4.tcp_window_scaling=0"]);
    pair.exec(
        &ns,
        &["sysctl", "-qw", "net.ipv4.tcp_wmem=4096 16384 1048576"],
    );

    let before = audit(&pair, &ns);
    let off = with_id(&before, "host.tcp_option_off");
    let named = |f: &&Value, name: &str| f["summary"].as_str().is_some_and(|s| s.contains(name));
    let sack = off
        .iter()
        .find(|f| named(f, "tcp_sack"))
        .expect("tcp_sack off is found");
    let scaling = off
        .iter()
        .find(|f| named(f, "tcp_window_scaling"))
        .expect("scaling off");
    assert_eq!(sack["next_steps"][0], "sysctl -w net.ipv4.tcp_sack=1");
    let wmem = with_id(&before, "host.buffer_max_low")
        .into_iter()
        .find(|f| named(f, "net.ipv4.tcp_wmem"))
        .expect("the small tcp_wmem is found");
    // The default 1 Gbit/s at 50 ms: 16 MiB.
    assert_eq!(
        wmem["next_steps"][0],
        "sysctl -w net.ipv4.tcp_wmem='4096 16384 16777216'"
    );

    for f in [sack, scaling, &wmem] {
        run_advice(&pair, &ns, f["next_steps"][0].as_str().expect("a command"));
    }
    let after = audit(&pair, &ns);
    assert!(
        with_id(&after, "host.tcp_option_off").is_empty(),
        "{after:#}"
    );
    assert!(
        !with_id(&after, "host.buffer_max_low")
            .iter()
            .any(|f| named(f, "net.ipv4.tcp_wmem")),
        "{after:#}"
    );
    // The settings table shows the new value as the kernel has it.
    let shown = after["settings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == "net.ipv4.tcp_wmem")
        .expect("tcp_wmem listed");
    assert_eq!(shown["value"], "4096\t16384\t16777216");
}

#[test]
fn offloads_are_read_from_the_driver_as_ethtool_shows_them() {
    if netns::skip_unless_root("offloads_are_read_from_the_driver") {
        return;
    }
    let pair = Pair::new();
    let ns = pair.server.clone();
    let dev = pair.server_if.clone();
    let ethtool = |feature: &str| {
        let out = pair.exec(&ns, &["ethtool", "-k", &dev]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.starts_with(&format!("{feature}:")))
            .map(|l| l.contains(": on"))
            .unwrap_or_else(|| panic!("{feature} in {text}"))
    };
    let interface = |doc: &Value| -> Value {
        doc["offloads"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["interface"] == dev.as_str())
            .cloned()
            .expect("the veth is listed")
    };
    let before = audit(&pair, &ns);
    let o = interface(&before);
    assert_eq!(o["tso"], ethtool("tcp-segmentation-offload"), "{o}");
    assert_eq!(o["gso"], ethtool("generic-segmentation-offload"), "{o}");
    assert_eq!(o["gro"], ethtool("generic-receive-offload"), "{o}");
    assert_eq!(o["lro"], ethtool("large-receive-offload"), "{o}");
    // Loopback is never audited: it reaches no wire.
    assert!(before["offloads"]
        .as_array()
        .is_some_and(|a| a.iter().all(|o| o["interface"] != "lo")));

    // veth starts with TSO and GSO on: the finding names the interface and the fix.
    let finding = with_id(&before, "host.offload_on")
        .into_iter()
        .find(|f| {
            f["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with(&format!("{dev}:")))
        })
        .expect("offload finding for the veth");
    assert_eq!(finding["actor"], "capture");
    run_advice(
        &pair,
        &ns,
        finding["next_steps"][0].as_str().expect("a command"),
    );

    let after = audit(&pair, &ns);
    let o = interface(&after);
    assert_eq!(
        (o["tso"].clone(), o["gso"].clone(), o["gro"].clone()),
        (false.into(), false.into(), false.into())
    );
    assert!(!ethtool("tcp-segmentation-offload"));
    assert!(
        !with_id(&after, "host.offload_on")
            .iter()
            .any(|f| f["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with(&format!("{dev}:")))),
        "{after:#}"
    );
}
