//! The engine alone, fed a generated call day: events per second, and retained bytes per agent
//! and per queue. Results and the command go in BENCHMARKS.md ("Engine").
//!
//! Run: `cargo bench -p floorwatch-core --bench engine`
//!
//! The day is generated here (a seeded xorshift, no simulator) so the benchmark measures the
//! engine and nothing else: each agent works an 8-hour shift of calls (ringing, answer, talk,
//! sometimes hold, after-call work) with its own state events, plus abandoned calls, all sorted
//! by event time as a switch would send them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floorwatch_core::org::{AgentConfig, Group, QueueConfig, Site, Team};
use floorwatch_core::{
    AgentState, Direction, Engine, Event, EventKind, Millis, Organisation, Scope, Window,
};

/// Counts live heap bytes, to measure what the engine retains.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

/// 20 agents a team, 10 teams a group, 5 groups a site.
fn organisation(agents: usize, queues: usize) -> Organisation {
    let mut org = Organisation::default();
    org.centre.timezone = "Asia/Shanghai".into();
    let teams = agents.div_ceil(20);
    for t in 0..teams {
        let (g, s) = (t / 10, t / 50);
        if org.sites.len() <= s {
            org.sites.push(Site {
                id: format!("s{s}"),
                name: String::new(),
                groups: Vec::new(),
            });
        }
        let site = &mut org.sites[s];
        if site.groups.len() <= g % 5 {
            site.groups.push(Group {
                id: format!("g{g}"),
                name: String::new(),
                teams: Vec::new(),
            });
        }
        let lo = t * 20;
        let hi = (lo + 20).min(agents);
        site.groups[g % 5].teams.push(Team {
            id: format!("t{t}"),
            name: String::new(),
            agents: (lo..hi).map(|a| AgentConfig::Id(format!("a{a}"))).collect(),
        });
    }
    for q in 0..queues {
        org.queues.push(QueueConfig {
            id: format!("q{q}"),
            owner: Some(format!("site:s{}", q % org.sites.len())),
            ..QueueConfig::default()
        });
    }
    org
}

/// A call day from 08:00 Shanghai time, sorted by event time.
fn call_day(agents: usize, queues: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng(seed);
    let base: Millis = 1_773_014_400_000; // 2026-03-09T00:00:00Z = 08:00 Shanghai
    let mut events: Vec<Event> = Vec::new();
    let push = |events: &mut Vec<Event>, ts: Millis, kind: EventKind| {
        let n = events.len();
        events.push(Event {
            v: 1,
            id: format!("e{n}"),
            source: "bench".into(),
            seq: n as u64,
            ts,
            test: false,
            kind,
        });
    };
    let state = |agent: &str, state: AgentState| EventKind::AgentState {
        agent: agent.to_string(),
        state,
        reason: None,
    };
    let mut call_no = 0u64;
    for a in 0..agents {
        let agent = format!("a{a}");
        let queue = format!("q{}", a % queues);
        let mut t = base + rng.range(-300_000, 300_000);
        let shift_end = t + 8 * 3_600_000;
        push(
            &mut events,
            t,
            EventKind::AgentLogin {
                agent: agent.clone(),
                team: None,
            },
        );
        while t < shift_end {
            t += rng.range(0, 120_000);
            let call = format!("c{call_no}");
            call_no += 1;
            let wait = rng.range(0, 40_000);
            push(
                &mut events,
                t - wait,
                EventKind::CallEnteredQueue {
                    call: call.clone(),
                    queue: queue.clone(),
                    priority: 0,
                    caller: Some("13812345678".into()),
                    direction: Direction::Inbound,
                },
            );
            if rng.range(0, 10) == 0 {
                // This caller gives up; the agent takes the next one.
                push(
                    &mut events,
                    t,
                    EventKind::CallAbandoned {
                        call,
                        queue: None,
                        wait_ms: None,
                    },
                );
                continue;
            }
            push(
                &mut events,
                t - 3_000,
                EventKind::CallOffered {
                    call: call.clone(),
                    agent: agent.clone(),
                },
            );
            push(&mut events, t - 3_000, state(&agent, AgentState::Ringing));
            push(
                &mut events,
                t,
                EventKind::CallAnswered {
                    call: call.clone(),
                    agent: agent.clone(),
                    queue: None,
                    wait_ms: None,
                },
            );
            push(&mut events, t, state(&agent, AgentState::OnCall));
            let talk = rng.range(60_000, 400_000);
            if rng.range(0, 4) == 0 {
                let h = t + talk / 2;
                push(
                    &mut events,
                    h,
                    EventKind::CallHoldStarted { call: call.clone() },
                );
                push(&mut events, h, state(&agent, AgentState::Hold));
                push(
                    &mut events,
                    h + 20_000,
                    EventKind::CallHoldEnded { call: call.clone() },
                );
                push(&mut events, h + 20_000, state(&agent, AgentState::OnCall));
            }
            t += talk;
            push(
                &mut events,
                t,
                EventKind::CallEnded {
                    call: call.clone(),
                    queue: None,
                    agent: None,
                    talk_ms: None,
                },
            );
            push(&mut events, t, state(&agent, AgentState::AfterCallWork));
            t += rng.range(5_000, 60_000);
            push(&mut events, t, EventKind::CallAfterCallWorkEnded { call });
            push(&mut events, t, state(&agent, AgentState::Available));
        }
        push(
            &mut events,
            t,
            EventKind::AgentLogout {
                agent: agent.clone(),
            },
        );
    }
    events.sort_by_key(|e| e.ts);
    events
}

/// Bytes the engine retains after a whole day (with its own record of event ids when `dedup`).
fn retained_bytes(agents: usize, queues: usize, dedup: bool) -> isize {
    let org = organisation(agents, queues);
    let events = call_day(agents, queues, 42);
    let before = LIVE.load(Ordering::Relaxed);
    let mut engine = Engine::new(&org).expect("valid organisation");
    for e in &events {
        if dedup {
            engine.apply(e);
        } else {
            engine.apply_new(e);
        }
    }
    // Read something, so nothing is optimised away.
    let f = engine
        .figures(&Scope::Centre, Window::Today)
        .expect("centre");
    assert!(f.offered > 0);
    let after = LIVE.load(Ordering::Relaxed);
    drop(engine);
    after - before
}

/// This thread's CPU time (user + system), from /proc/thread-self/stat, in seconds: on a busy
/// machine the wall clock measures the neighbours, this measures the engine.
fn thread_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Events per CPU-second of a whole-day feed, the best of three.
fn events_per_cpu_s(org: &Organisation, events: &[Event], dedup: bool) -> f64 {
    (0..3)
        .map(|_| one_feed_per_cpu_s(org, events, dedup))
        .fold(0.0, f64::max)
}

fn one_feed_per_cpu_s(org: &Organisation, events: &[Event], dedup: bool) -> f64 {
    let start = thread_cpu_s();
    let mut engine = Engine::new(org).expect("valid organisation");
    for e in events {
        if dedup {
            engine.apply(e);
        } else {
            engine.apply_new(e);
        }
    }
    let took = thread_cpu_s() - start;
    drop(engine);
    events.len() as f64 / took
}

fn bench(c: &mut Criterion) {
    const AGENTS: usize = 5_000;
    const QUEUES: usize = 50;
    let org = organisation(AGENTS, QUEUES);
    let events = call_day(AGENTS, QUEUES, 42);

    let full = retained_bytes(AGENTS, QUEUES, true);
    let lean = retained_bytes(AGENTS, QUEUES, false);
    let half_agents = retained_bytes(AGENTS / 2, QUEUES, false);
    // Ten times the queues, the same calls spread over them: the marginal of 450 queues stands
    // above the noise of a different draw of calls.
    let many_queues = retained_bytes(AGENTS, QUEUES * 10, false);
    eprintln!(
        "day: {} events, {AGENTS} agents, {QUEUES} queues; engine retains {:.1} MB with its id \
         record, {:.1} MB without ({} bytes per agent overall); marginal: {} bytes per agent, \
         {} bytes per queue",
        events.len(),
        full as f64 / 1e6,
        lean as f64 / 1e6,
        lean / AGENTS as isize,
        (lean - half_agents) / (AGENTS / 2) as isize,
        (many_queues - lean) / (QUEUES * 9) as isize,
    );

    let baseline_start = thread_cpu_s();
    let mut seen = std::collections::HashSet::with_hasher(std::hash::BuildHasherDefault::<
        rustc_hash::FxHasher,
    >::default());
    for e in &events {
        seen.insert(e.id.as_str());
    }
    let baseline = events.len() as f64 / (thread_cpu_s() - baseline_start);
    drop(seen);
    let lean_rate = events_per_cpu_s(&org, &events, false);
    let full_rate = events_per_cpu_s(&org, &events, true);
    eprintln!(
        "per CPU-second of one core: apply_new {:.2} M events/s, apply {:.2} M events/s; \
         baseline (hash every id into a set) {:.2} M/s: apply_new takes {:.1}x the baseline",
        lean_rate / 1e6,
        full_rate / 1e6,
        baseline / 1e6,
        baseline / lean_rate,
    );

    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("apply a 5,000-agent day", |b| {
        b.iter_with_large_drop(|| {
            let mut engine = Engine::new(&org).expect("valid organisation");
            for e in &events {
                engine.apply(e);
            }
            engine
        })
    });
    group.bench_function(
        "apply_new a 5,000-agent day (ids checked by the caller)",
        |b| {
            b.iter_with_large_drop(|| {
                let mut engine = Engine::new(&org).expect("valid organisation");
                for e in &events {
                    engine.apply_new(e);
                }
                engine
            })
        },
    );
    // A yardstick measured in the same run: the least any de-duplicating consumer must do,
    // hash every event id into a set. The engine's time over this one is the ratio to report
    // on a noisy machine.
    group.bench_function("baseline: hash every id into a set", |b| {
        b.iter_with_large_drop(|| {
            let mut seen = std::collections::HashSet::with_hasher(std::hash::BuildHasherDefault::<
                rustc_hash::FxHasher,
            >::default());
            for e in &events {
                seen.insert(e.id.as_str());
            }
            seen
        })
    });
    let mut engine = Engine::new(&org).expect("valid organisation");
    for e in &events {
        engine.apply(e);
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("read centre today", |b| {
        b.iter(|| engine.figures(&Scope::Centre, Window::Today))
    });
    group.bench_function("read one queue rolling 15", |b| {
        let q = Scope::Queue("q7".into());
        b.iter(|| engine.figures(&q, Window::Rolling15))
    });
    // Agent state time is kept per agent and added up when a bigger scope is read: the
    // centre's longest rolling window is the largest such sum, one team a typical one.
    group.bench_function("read centre rolling 60", |b| {
        b.iter(|| engine.figures(&Scope::Centre, Window::Rolling60))
    });
    group.bench_function("read one team rolling 15", |b| {
        let t = Scope::Team("t7".into());
        b.iter(|| engine.figures(&t, Window::Rolling15))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
