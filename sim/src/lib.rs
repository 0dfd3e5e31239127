//! gatehouse-sim: simulation, kept out of the product crates.
//!
//! - [`rng`]: the one random generator (a seed gives the same run everywhere);
//! - [`traffic`]: the one traffic profile (habits, arrivals, stays, vehicle classes);
//! - [`scene`]: synthetic plates and street scenes, drawn with a system font;
//! - [`lane`]: a lane of simulated devices speaking their real protocols, and the vehicle that
//!   uses them; [`lane::SimulatedLanes`] starts them for lanes marked `simulated`;
//! - [`demo`]: the demo lot and its day of traffic on a fast clock.
//!
//! The demo, the day, the benchmarks and the tests use it; no library crate depends on it.

pub mod demo;
pub mod lane;
pub mod rng;
pub mod scene;
pub mod traffic;

pub use rng::Rng;
