#!/usr/bin/env python3
"""Runs tcpsleuth's shards as Apache Spark tasks, then queries the results with Spark SQL.

Each of N tasks runs `tcpsleuth analyze --shard I/N --format parquet -o OUT CAPTURE...`: it
reads every frame (stream numbers must be those of one whole run) but diagnoses and writes only
the connections of its shard, into OUT/connections/part-I-of-N.parquet and
OUT/findings/part-I-of-N.parquet. Together the N parts are exactly the tables of one run
(docs/sharding.md). The driver then reads OUT with Spark SQL. With --each, every CAPTURE
argument (a file, or a sensor's ring-buffer directory) is its own analysis into OUT/NAME, and the
job has captures x shards tasks.

    python3 scripts/spark/tcpsleuth_spark.py --shards 4 --out results/ capture.pcap
    python3 scripts/spark/tcpsleuth_spark.py --each --shards 2 --out results/ /rings/sensor-*/

Local mode (the default master is local[*]) needs only `pip install pyspark` and Java 17. On a
cluster, pass --master spark://HOST:7077 (or yarn, k8s://...): the tcpsleuth binary is shipped
to the executors with the job (SparkContext.addFile), and the captures and OUT must be on a
filesystem every executor mounts at the same path (NFS, a FUSE-mounted bucket). See
docs/fleet.md.
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("captures", nargs="+", help="capture files (or rotating-capture directories)")
    p.add_argument("--out", required=True, help="directory for the Parquet tables")
    p.add_argument("--shards", type=int, default=4, help="shards per capture (default 4)")
    p.add_argument(
        "--each",
        action="store_true",
        help="analyse each CAPTURE (a file or a ring-buffer directory) on its own, into "
        "OUT/NAME: captures x shards tasks, for many sensors or hours in one job",
    )
    p.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    p.add_argument(
        "--tcpsleuth",
        default=shutil.which("tcpsleuth") or "target/release/tcpsleuth",
        help="the tcpsleuth binary to ship to the executors",
    )
    p.add_argument(
        "--max-connections", type=int, default=None, help="passed to tcpsleuth analyze"
    )
    p.add_argument("--sql", action="append", default=[], help="Spark SQL to run on the results")
    return p.parse_args(argv)


def run_shard(index, count, captures, out, extra):
    """One Spark task: one shard of the given captures. Returns what the driver reports."""
    from pyspark import SparkFiles

    binary = SparkFiles.get("tcpsleuth")
    mode = os.stat(binary).st_mode
    if not mode & stat.S_IXUSR:
        os.chmod(binary, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    cmd = [binary, "analyze", "--quiet", "--format", "parquet", "-o", out,
           "--shard", f"{index}/{count}", *extra, *captures]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=24 * 3600)
    # Exit 1 is "an input could not be analysed entirely": the readable part is written and
    # the damage is on stderr. Anything else is a failed task, which Spark retries; a retry
    # replaces the part, never duplicates it.
    if done.returncode not in (0, 1):
        raise RuntimeError(f"shard {index}/{count}: {' '.join(cmd)}: exit {done.returncode}: "
                           f"{done.stderr.strip()}")
    return out, index, done.returncode, done.stderr.strip()


def output_dirs(captures, out, each):
    """(captures, output directory) per group: all captures into OUT, or each into OUT/NAME."""
    if not each:
        return [(captures, out)]
    groups, seen = [], set()
    for capture in captures:
        name = os.path.basename(capture.rstrip("/")) or "capture"
        # Two sensors' rings may share a name (sensor-a/ring, sensor-b/ring): number them.
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = f"{name}-{n}"
        seen.add(unique)
        groups.append(([capture], os.path.join(out, unique)))
    return groups


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    binary = os.path.abspath(args.tcpsleuth)
    if not os.access(binary, os.X_OK):
        sys.exit(f"tcpsleuth_spark: {binary} is not an executable tcpsleuth (--tcpsleuth PATH)")
    if args.shards < 1:
        sys.exit("tcpsleuth_spark: --shards must be at least 1")
    captures = [os.path.abspath(c) for c in args.captures]
    out = os.path.abspath(args.out)
    extra = [] if args.max_connections is None else ["--max-connections", str(args.max_connections)]

    spark = (SparkSession.builder.master(args.master).appName("tcpsleuth")
             # One task is one tcpsleuth process using about two cores (read, analyse,
             # diagnose threads); tell the scheduler so.
             .config("spark.task.cpus", "1" if args.master.startswith("local") else "2")
             .config("spark.ui.enabled", "false")
             .getOrCreate())
    try:
        sc = spark.sparkContext
        sc.setLogLevel("WARN")
        sc.addFile(binary)
        count = args.shards
        groups = output_dirs(captures, out, args.each)
        tasks = [(group, dest, i) for group, dest in groups for i in range(count)]
        results = (sc.parallelize(tasks, len(tasks))
                   .map(lambda t: run_shard(t[2], count, t[0], t[1], extra))
                   .collect())
        for dest, index, code, stderr in sorted(results):
            if stderr:
                print(f"{dest} shard {index}/{count} (exit {code}): {stderr}", file=sys.stderr)

        for table in ("connections", "findings", "files", "paths", "path_findings"):
            paths = [os.path.join(dest, table) for _, dest in groups]
            spark.read.parquet(*paths).createOrReplaceTempView(table)
        queries = args.sql or [
            "SELECT count(*) AS connections, count(root_cause) AS with_findings FROM connections",
            "SELECT id, actor, count(*) AS n FROM findings GROUP BY id, actor ORDER BY n DESC, id",
        ]
        for sql in queries:
            print(f"-- {sql}")
            spark.sql(sql).show(50, truncate=False)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
