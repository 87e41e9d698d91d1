//! Sharded runs on a real Slurm: scripts/slurm-local.sh brings up munged, slurmctld and
//! slurmd on loopback (installing `slurm-wlm` and `munge` from Debian when root), then
//! `sbatch --array=0-3 --wait` runs the same memscan command line as four array tasks
//! (the shard comes from SLURM_ARRAY_TASK_ID), for a scan and for an eval; `memscan
//! merge` must give the unsharded run's samples and statistics. One array task is
//! requeued mid-run (`scontrol requeue`, which kills it): it resumes, and nothing is lost
//! or duplicated. Where the daemons cannot start, the test says why and passes as skipped.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: &Path) -> Option<Cluster> {
        let o = Command::new("bash")
            .arg(root().join("scripts/slurm-local.sh"))
            .args(["start", dir.to_str().unwrap()])
            .output()
            .expect("run scripts/slurm-local.sh");
        match o.status.code() {
            Some(0) => {}
            Some(77) => {
                eprintln!("SKIPPED: no Slurm here: {}", stderr(&o).trim());
                return None;
            }
            c => panic!("slurm-local.sh start exited {c:?}: {}", stderr(&o)),
        }
        let env = std::fs::read_to_string(dir.join("env")).unwrap();
        let conf = env
            .trim()
            .strip_prefix("export SLURM_CONF=")
            .expect("env exports SLURM_CONF")
            .trim_matches('\'')
            .to_string();
        Some(Cluster {
            dir: dir.to_path_buf(),
            conf,
        })
    }

    fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new(prog);
        c.env("SLURM_CONF", &self.conf);
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/slurm-local.sh"))
            .args(["stop", self.dir.to_str().unwrap()])
            .output();
    }
}

/// A shell command line: the memscan binary and its arguments, quoted.
fn line(args: &[String]) -> String {
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    std::iter::once(q(env!("CARGO_BIN_EXE_memscan")))
        .chain(args.iter().map(|a| q(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sbatch(c: &Cluster, work: &Path, name: &str, args: &[String]) -> std::process::Child {
    c.cmd("sbatch")
        .args([
            "--array=0-3",
            "--wait",
            "--requeue",
            "--cpus-per-task=1",
            &format!("--job-name={name}"),
            &format!("--chdir={}", work.display()),
            &format!("--output={}/{name}-%a.log", work.display()),
            "--wrap",
            &line(args),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sbatch")
}

fn waited(mut child: std::process::Child, what: &str) -> Output {
    // a cluster that never runs the jobs must fail the test, not hang it
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed().as_secs() > 900 {
            let _ = child.kill();
            panic!("{what}: sbatch --wait still waiting after 900 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: sbatch --wait: {}",
        stderr(&o)
    );
    o
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn slurm_array_shards_merge_to_the_unsharded_run_and_a_requeued_task_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(cluster) = Cluster::start(&tmp.path().join("slurm")) else {
        return;
    };
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let w = |n: &str| work.join(n).display().to_string();
    std::fs::write(
        work.join("prompts.jsonl"),
        concat!(
            "{\"id\": \"p/license\", \"text\": \"Permission is hereby granted, free of charge,\"}\n",
            "{\"id\": \"p/key\", \"text\": \"export AWS_SECRET_ACCESS_KEY=\"}\n",
            "{\"id\": \"p/mail\", \"text\": \"Contact: \"}\n",
            "{\"id\": \"p/empty\", \"text\": \"\"}\n",
        ),
    )
    .unwrap();
    std::fs::write(
        work.join("cal.jsonl"),
        "{\"text\": \"The ferry to Ormsby Island now leaves at ten past seven.\"}\n",
    )
    .unwrap();
    // 4 prompts × 8 samples in batches of 2: 16 batches, 4 per array task
    let scan = |out: &str| {
        strings(&[
            "scan",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--prompts",
            &w("prompts.jsonl"),
            "--calibration",
            &w("cal.jsonl"),
            "--samples-per-prompt",
            "8",
            "--max-new-tokens",
            "24",
            "--batch-size",
            "2",
            "--seed",
            "5",
            "--out",
            &w(out),
        ])
    };
    let f = root().join("tests/fixture");
    let fx = |n: &str| f.join(n).display().to_string();
    let eval = |out: &str| {
        strings(&[
            "eval",
            "--model",
            &fx("model"),
            "--device",
            "cpu",
            "--threads",
            "1",
            "--members",
            &fx("members.jsonl"),
            "--nonmembers",
            &fx("nonmembers.jsonl"),
            "--bootstrap",
            "200",
            "--out",
            &w(out),
        ])
    };

    // the scan array, with task 1 requeued once its first batch is written
    let job = sbatch(&cluster, &work, "scan", &scan("scan4"));
    let shard1 = work.join("scan4/shard-0001-of-0004/samples.jsonl");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&shard1).map_or(0, |t| t.lines().count()) < 2 {
        assert!(
            t0.elapsed().as_secs() < 300,
            "task 1 wrote no batch in 300 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let q = cluster
        .cmd("squeue")
        .args(["-h", "-n", "scan", "-o", "%i %t"])
        .output()
        .unwrap();
    let task1 = String::from_utf8_lossy(&q.stdout)
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .next()
                .filter(|id| id.ends_with("_1"))
                .map(String::from)
        })
        .expect("array task 1 in squeue");
    let r = cluster
        .cmd("scontrol")
        .args(["requeue", &task1])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "scontrol requeue: {}", stderr(&r));
    // meanwhile, the same scan in one process
    let o = memscan(&scan("scan1").iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    waited(job, "scan array");
    let log1 = std::fs::read_to_string(work.join("scan-1.log")).unwrap();
    assert!(
        log1.contains("resuming"),
        "the requeued task did not resume: {log1}"
    );

    let job = sbatch(&cluster, &work, "eval", &eval("eval4"));
    let o = memscan(&eval("eval1").iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    waited(job, "eval array");

    for (one, four) in [("scan1", "scan4"), ("eval1", "eval4")] {
        let o = memscan(&["-q", "merge", &w(four)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            comparable(report_json(&work.join(one))),
            comparable(report_json(&work.join(four)))
        );
    }
    // the scan's samples: the one process's, none lost, none twice
    assert_eq!(
        std::fs::read_to_string(work.join("scan4/samples.jsonl")).unwrap(),
        std::fs::read_to_string(work.join("scan1/samples.jsonl")).unwrap()
    );
    assert_eq!(report_json(&work.join("scan4"))["summary"]["samples"], 32);
}
