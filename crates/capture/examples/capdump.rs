//! Prints one line per frame: number, epoch time, interface, captured and original length,
//! link type, offset. Usage: `capdump FILE` ("-" for standard input).

use std::io::Write;
use std::path::PathBuf;

use tcpsleuth_capture::CaptureReader;

fn main() {
    let path = PathBuf::from(std::env::args_os().nth(1).unwrap_or_else(|| "-".into()));
    let mut reader = match CaptureReader::open(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => {
                let ts = f.timestamp_ns;
                let _ = writeln!(
                    out,
                    "{}\t{}.{:09}\t{}\t{}\t{}\t{}\t{}",
                    f.number,
                    ts.div_euclid(1_000_000_000),
                    ts.rem_euclid(1_000_000_000),
                    f.interface,
                    f.data.len(),
                    f.original_len,
                    f.link_type.0,
                    f.offset
                );
            }
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush();
                let level = if e.is_truncation() {
                    "warning"
                } else {
                    "error"
                };
                eprintln!("{level}: {e}");
                std::process::exit(if e.is_truncation() { 0 } else { 1 });
            }
        }
    }
    let _ = out.flush();
    eprintln!(
        "{} {} ({} compression), {} of {:?} input bytes read, comments: {:?}",
        reader.format(),
        path.display(),
        reader.compression(),
        reader.input_bytes_read(),
        reader.input_len(),
        reader.comments()
    );
}
