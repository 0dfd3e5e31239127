//! A lane with a clock the test moves, and readers for what it did.
#![allow(dead_code)]

use gatehouse_lanes::entry::{EntryConfig, EntryLane};
use gatehouse_lanes::exit::{ExitConfig, ExitLane};
use gatehouse_lanes::{Action, Fallback, Input, LaneEvent, LaneMachine, Screen, Timer};
use std::time::{Duration, Instant};

pub struct Lane {
    pub lane: LaneMachine,
    pub t0: Instant,
    pub now: Instant,
}

impl Lane {
    pub fn entry(config: EntryConfig) -> Lane {
        Lane::of(LaneMachine::Entry(EntryLane::new(config)))
    }
    pub fn exit(config: ExitConfig) -> Lane {
        Lane::of(LaneMachine::Exit(ExitLane::new(config)))
    }
    fn of(lane: LaneMachine) -> Lane {
        let t0 = Instant::now();
        Lane { lane, t0, now: t0 }
    }
    /// Feeds `input` `ms` after the previous one.
    pub fn at(&mut self, ms: u64, input: Input) -> Vec<Action> {
        self.now += Duration::from_millis(ms);
        self.lane.handle(self.now, input)
    }
}

pub fn fallbacks(actions: &[Action]) -> Vec<Fallback> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Journal(LaneEvent::Fallback { fallback, .. }) => Some(*fallback),
            _ => None,
        })
        .collect()
}

pub fn shows(actions: &[Action]) -> Vec<&Screen> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Show(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Drives a vehicle from the open gate through to the closed gate; returns the journaled pass.
pub fn drive_through(l: &mut Lane, pass_within: Duration) -> LaneEvent {
    let a = l.at(900, Input::GateOpened);
    assert!(a.contains(&Action::StartTimer(Timer::Pass, pass_within)));
    assert!(l.at(1200, Input::PassLoop(true)).is_empty());
    assert!(l.at(800, Input::ArmingLoop(false)).is_empty());
    let a = l.at(700, Input::PassLoop(false));
    assert!(a.contains(&Action::CloseGate), "{a:?}");
    let passed = a
        .iter()
        .find_map(|a| match a {
            Action::Journal(e @ LaneEvent::Passed { .. }) => Some(e.clone()),
            _ => None,
        })
        .expect("the pass is journaled");
    let a = l.at(900, Input::GateClosed);
    assert_eq!(shows(&a), vec![&Screen::Idle]);
    assert!(l.lane.is_idle());
    passed
}
