//! Stream compression: ratio, time and memory per stream of via's per-stream encoders next
//! to the crates' stock encoders, on a Datastar-like event sequence (a signals patch and a
//! 20-item list patch, alternating, 200 events, each flushed on its own).
//!
//! Memory is RSS growth / encoders, in this process: "idle" after one event and one
//! heartbeat (1,000 encoders), "busy" after all 200 events (100 encoders).
//!
//! Usage: cargo run --release --example codecs

use std::io::Write;
use std::time::Instant;

use via::http::encoding::{Coding, CompressionConfig, StreamEncoder};

fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: usize = s
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

fn events() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..100 {
        out.push(
            format!(
                "event: datastar-patch-signals\ndata: signals {{\"count\":{i},\"online\":{}}}\n\n",
                40 + i % 7
            )
            .into_bytes(),
        );
        let mut html = String::from(
            "event: datastar-patch-elements\ndata: elements <ul id=\"todos\" class=\"todo-list\">",
        );
        for j in 0..20 {
            let done = if (i + j) % 5 == 0 { " completed" } else { "" };
            html.push_str(&format!(
                "<li class=\"todo{done}\" data-on-click=\"@post('/todo/{j}/toggle')\"><label>Item number {j} of the list</label></li>"
            ));
        }
        html.push_str("</ul>\n\n");
        out.push(html.into_bytes());
    }
    out
}

/// An encoder under test: flushes each chunk, returns the bytes.
trait Enc {
    fn chunk(&mut self, b: &[u8]) -> usize;
}

struct Via(StreamEncoder);
impl Enc for Via {
    fn chunk(&mut self, b: &[u8]) -> usize {
        self.0.encode(b).expect("encode").len()
    }
}

struct StockBrotli(brotli::CompressorWriter<Vec<u8>>);
impl Enc for StockBrotli {
    fn chunk(&mut self, b: &[u8]) -> usize {
        self.0.write_all(b).expect("write");
        self.0.flush().expect("flush");
        std::mem::take(self.0.get_mut()).len()
    }
}

struct StockGzip(flate2::write::GzEncoder<Vec<u8>>);
impl Enc for StockGzip {
    fn chunk(&mut self, b: &[u8]) -> usize {
        self.0.write_all(b).expect("write");
        self.0.flush().expect("flush");
        std::mem::take(self.0.get_mut()).len()
    }
}

fn measure(name: &str, make: &dyn Fn() -> Box<dyn Enc>) {
    let evs = events();
    let raw: usize = evs.iter().map(Vec::len).sum();
    let mut e = make();
    let t = Instant::now();
    let wire: usize = evs.iter().map(|ev| e.chunk(ev)).sum();
    let us = t.elapsed().as_secs_f64() * 1e6 / evs.len() as f64;
    drop(e);

    let n = 1000;
    let before = rss();
    let mut idle = Vec::with_capacity(n);
    for _ in 0..n {
        let mut e = make();
        e.chunk(&evs[0]);
        e.chunk(b": ping\n\n");
        idle.push(e);
    }
    let idle_kib = (rss() - before) as f64 / n as f64 / 1024.0;
    let before = rss();
    let mut busy = Vec::with_capacity(n / 10);
    for _ in 0..n / 10 {
        let mut e = make();
        for ev in &evs {
            e.chunk(ev);
        }
        busy.push(e);
    }
    let busy_kib = (rss() - before) as f64 / (n / 10) as f64 / 1024.0;
    println!(
        "| {name} | {:.1}× | {us:.1} | {idle_kib:.1} KiB | {busy_kib:.1} KiB |",
        raw as f64 / wire as f64
    );
}

type Maker = Box<dyn Fn() -> Box<dyn Enc>>;

fn encoders() -> Vec<(String, Maker)> {
    let mut out: Vec<(String, Maker)> = Vec::new();
    for level in [3u32, 4, 5] {
        let cfg = CompressionConfig { brotli_level: level, ..CompressionConfig::default() };
        out.push((
            format!("via br {level}"),
            Box::new(move || {
                Box::new(Via(StreamEncoder::new(Coding::Brotli, &cfg).expect("br"))) as Box<dyn Enc>
            }),
        ));
    }
    for level in [1u32, 6] {
        let cfg = CompressionConfig { gzip_level: level, ..CompressionConfig::default() };
        out.push((
            format!("via gzip {level}"),
            Box::new(move || {
                Box::new(Via(StreamEncoder::new(Coding::Gzip, &cfg).expect("gzip"))) as Box<dyn Enc>
            }),
        ));
    }
    out.push((
        "brotli::CompressorWriter 4, lgwin 16".into(),
        Box::new(|| {
            Box::new(StockBrotli(brotli::CompressorWriter::new(Vec::new(), 1024, 4, 16))) as Box<dyn Enc>
        }),
    ));
    out.push((
        "flate2 GzEncoder 6 (miniz_oxide)".into(),
        Box::new(|| {
            Box::new(StockGzip(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6))))
                as Box<dyn Enc>
        }),
    ));
    out
}

fn main() {
    // Each encoder is measured in a process of its own: freed memory would flatter the next.
    if let Some(which) = std::env::args().nth(1) {
        let (name, make) = encoders().into_iter().nth(which.parse().expect("index")).expect("encoder");
        measure(&name, &*make);
        return;
    }
    let raw: usize = events().iter().map(Vec::len).sum();
    println!("{} events, {raw} bytes; each flushed on its own\n", events().len());
    println!("| encoder | ratio | µs per event | RSS per idle stream | RSS per busy stream |");
    println!("|---|---:|---:|---:|---:|");
    let me = std::env::current_exe().expect("current_exe");
    for i in 0..encoders().len() {
        let status = std::process::Command::new(&me).arg(i.to_string()).status().expect("run");
        assert!(status.success());
    }
}
