//! The one traffic profile: who comes to a car park on a working day, when, and for how long.
//! The scripted day (`gatehouse day`) and the demo lot's live traffic both draw their visitors
//! from it.

use crate::rng::Rng;
use gatehouse_core::VehicleClass;

/// Why a vehicle comes, which sets when it arrives and how long it stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Habit {
    /// The morning rush, a working day.
    Commuter,
    Shopper,
    /// Inside the free minutes.
    QuickStop,
    Evening,
    /// Arrives in the afternoon or evening, leaves the next morning.
    Overnight,
}

/// How a day's visitors divide into habits (weights).
pub const HABITS: [(Habit, u32); 5] = [
    (Habit::Commuter, 30),
    (Habit::Shopper, 44),
    (Habit::QuickStop, 10),
    (Habit::Evening, 11),
    (Habit::Overnight, 5),
];

/// The vehicles of a general car park by class (weights).
pub const CLASSES: [(VehicleClass, u32); 5] = [
    (VehicleClass::Motorcycle, 6),
    (VehicleClass::Compact, 24),
    (VehicleClass::Standard, 61),
    (VehicleClass::Large, 8),
    (VehicleClass::Bus, 1),
];

impl Habit {
    /// A visitor's habit.
    pub fn draw(rng: &mut Rng) -> Habit {
        *rng.pick(&HABITS)
    }

    /// Minutes after local midnight the vehicle arrives, and the minutes it stays (neither
    /// clamped: callers keep arrivals inside their day).
    pub fn arrival_and_stay(self, rng: &mut Rng) -> (f64, f64) {
        match self {
            Habit::Commuter => (rng.around(8.0 * 60.0, 120.0), rng.around(9.0 * 60.0, 150.0)),
            Habit::Shopper => (
                rng.between(9.0 * 60.0, 19.5 * 60.0),
                rng.between(20.0, 190.0),
            ),
            Habit::QuickStop => (rng.between(7.0 * 60.0, 21.0 * 60.0), rng.between(3.0, 10.0)),
            Habit::Evening => (
                rng.between(17.0 * 60.0, 21.5 * 60.0),
                rng.between(60.0, 200.0),
            ),
            Habit::Overnight => (
                rng.between(15.0 * 60.0, 22.5 * 60.0),
                rng.between(10.0 * 60.0, 16.0 * 60.0),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commuters_come_in_the_morning_and_stay_the_working_day_shoppers_come_later_for_less() {
        let mut rng = Rng::new(3);
        for _ in 0..2000 {
            let (arrive, stay) = Habit::Commuter.arrival_and_stay(&mut rng);
            assert!((300.0..=660.0).contains(&arrive) && (315.0..=765.0).contains(&stay));
            let (arrive, stay) = Habit::Shopper.arrival_and_stay(&mut rng);
            assert!((540.0..1170.0).contains(&arrive) && (20.0..190.0).contains(&stay));
            let (_, stay) = Habit::QuickStop.arrival_and_stay(&mut rng);
            assert!(stay < 10.0);
        }
    }
}
