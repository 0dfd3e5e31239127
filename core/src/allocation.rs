//! Free-spot indexes and the default allocation policy (docs/design.md, "Allocation").
//!
//! For every lane and every spot category (size × EV × accessible) the free spots sit in a
//! `BTreeSet` ordered by (distance to the lane, spot order): an allocation tries a fixed, small
//! number of categories and takes the first element of each, so it is O(log n). The indexes are
//! rebuilt from the database at start; the database is the truth.
//!
//! Policy: first the feature tier (EV spots for EVs, accessible spots for accessible
//! credentials; accessible spots never without one; EV spots for others only when the lot allows),
//! within a tier the best-fitting size (smallest that fits), within a size the spot nearest to the
//! entry lane, ties by the spot's order in the config.

use crate::config::LotConfig;
use crate::domain::VehicleClass;
use std::collections::{BTreeSet, HashMap};

/// A spot's category: size, EV charger, accessible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Category {
    size: VehicleClass,
    ev: bool,
    accessible: bool,
}

impl Category {
    fn index(self) -> usize {
        self.size.index() * 4 + usize::from(self.ev) * 2 + usize::from(self.accessible)
    }
}

const CATEGORIES: usize = 20;

/// A spot now: free, taken, or out of service (the console colours it by this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SpotState {
    Free,
    Occupied,
    OutOfService,
}

/// Reservation capacity pools: every spot belongs to exactly one. Accessible spots (with or
/// without a charger) form one pool, EV spots another, the rest the regular pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    Regular,
    Ev,
    Accessible,
}

impl Pool {
    pub const ALL: [Pool; 3] = [Pool::Regular, Pool::Ev, Pool::Accessible];
    pub fn of(ev: bool, accessible: bool) -> Pool {
        if accessible {
            Pool::Accessible
        } else if ev {
            Pool::Ev
        } else {
            Pool::Regular
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Regular => "regular",
            Pool::Ev => "EV",
            Pool::Accessible => "accessible",
        }
    }
    /// The spot features (ev, accessible) in this pool.
    fn features(self) -> &'static [(bool, bool)] {
        match self {
            Pool::Regular => &[(false, false)],
            Pool::Ev => &[(true, false)],
            Pool::Accessible => &[(false, true), (true, true)],
        }
    }
}

/// Spots per pool and exact size: `[pool][size] = (in service, occupied)`.
pub type PoolCounts = [[(u32, u32); 5]; 3];

/// A chosen spot and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub spot: usize,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Allocator {
    ids: Vec<String>,
    by_id: HashMap<String, usize>,
    categories: Vec<Category>,
    distances: Vec<Vec<u32>>,
    lane_ids: Vec<String>,
    state: Vec<SpotState>,
    /// `free[lane][category]`: (distance, spot) of the free spots.
    free: Vec<Vec<BTreeSet<(u32, u32)>>>,
    ev_for_others: bool,
}

/// The feature tiers a vehicle may use, in order of preference, with a phrase for the reason.
fn tiers(ev: bool, accessible: bool, ev_for_others: bool) -> Vec<(bool, bool, &'static str)> {
    // (spot ev, spot accessible, why)
    let mut t = Vec::with_capacity(4);
    match (ev, accessible) {
        (false, false) => {
            t.push((false, false, "regular spot"));
            if ev_for_others {
                t.push((true, false, "EV spot lent to a vehicle without EV (no regular spot free; the lot allows it)"));
            }
        }
        (true, false) => {
            t.push((true, false, "EV charging spot for an EV"));
            t.push((false, false, "regular spot (no free EV charging spot fits)"));
        }
        (false, true) => {
            t.push((false, true, "accessible spot for an accessible credential"));
            if ev_for_others {
                t.push((true, true, "accessible EV spot for an accessible credential (no other free accessible spot fits)"));
            }
            t.push((false, false, "regular spot (no free accessible spot fits)"));
            if ev_for_others {
                t.push((
                    true,
                    false,
                    "EV spot lent to a vehicle without EV (no other spot free; the lot allows it)",
                ));
            }
        }
        (true, true) => {
            t.push((true, true, "accessible EV charging spot"));
            t.push((
                false,
                true,
                "accessible spot (no free accessible EV spot fits)",
            ));
            t.push((
                true,
                false,
                "EV charging spot (no free accessible spot fits)",
            ));
            t.push((
                false,
                false,
                "regular spot (no free accessible or EV spot fits)",
            ));
        }
    }
    t
}

impl Allocator {
    /// Builds the indexes with every in-service spot free; call `take` for the occupied ones.
    pub fn new(config: &LotConfig, in_service: impl Fn(&str) -> bool) -> Allocator {
        let lanes = config.lanes.len();
        let mut a = Allocator {
            ids: Vec::with_capacity(config.spots.len()),
            by_id: HashMap::with_capacity(config.spots.len()),
            categories: Vec::with_capacity(config.spots.len()),
            distances: Vec::with_capacity(config.spots.len()),
            lane_ids: config.lanes.iter().map(|l| l.id.clone()).collect(),
            state: Vec::with_capacity(config.spots.len()),
            free: vec![vec![BTreeSet::new(); CATEGORIES]; lanes],
            ev_for_others: config.lot.ev_spots_for_others,
        };
        for (i, s) in config.spots.iter().enumerate() {
            a.ids.push(s.id.clone());
            a.by_id.insert(s.id.clone(), i);
            a.categories.push(Category {
                size: s.size,
                ev: s.ev,
                accessible: s.accessible,
            });
            a.distances.push(s.distance_dm.clone());
            a.state.push(SpotState::OutOfService);
            if in_service(&s.id) {
                a.release(i);
            }
        }
        a
    }

    pub fn spot_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }
    pub fn spot_id(&self, spot: usize) -> &str {
        &self.ids[spot]
    }
    pub fn state(&self, spot: usize) -> SpotState {
        self.state[spot]
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn insert_free(&mut self, spot: usize) {
        let cat = self.categories[spot].index();
        for (lane, sets) in self.free.iter_mut().enumerate() {
            sets[cat].insert((self.distances[spot][lane], spot as u32));
        }
    }
    fn remove_free(&mut self, spot: usize) {
        let cat = self.categories[spot].index();
        for (lane, sets) in self.free.iter_mut().enumerate() {
            sets[cat].remove(&(self.distances[spot][lane], spot as u32));
        }
    }

    /// Marks a spot occupied.
    pub fn take(&mut self, spot: usize) {
        if self.state[spot] == SpotState::Free {
            self.remove_free(spot);
        }
        self.state[spot] = SpotState::Occupied;
    }

    /// Marks a spot free (a vehicle left, or it came back into service).
    pub fn release(&mut self, spot: usize) {
        if self.state[spot] != SpotState::Free {
            self.insert_free(spot);
        }
        self.state[spot] = SpotState::Free;
    }

    /// Takes a spot out of service; an occupied spot stays occupied and is not freed at exit.
    pub fn out_of_service(&mut self, spot: usize) {
        if self.state[spot] == SpotState::Free {
            self.remove_free(spot);
        }
        self.state[spot] = SpotState::OutOfService;
    }

    /// Picks a spot for a vehicle arriving at `lane` (an index into the config's lanes).
    pub fn allocate(
        &self,
        class: VehicleClass,
        ev: bool,
        accessible: bool,
        lane: usize,
    ) -> Option<Allocation> {
        self.allocate_where(class, ev, accessible, lane, |_, _| true, |_| true)
    }

    /// Like `allocate`, skipping spot categories (pool, size) that `allowed` refuses: the
    /// capacity that reservations hold.
    pub fn allocate_where(
        &self,
        class: VehicleClass,
        ev: bool,
        accessible: bool,
        lane: usize,
        allowed: impl Fn(Pool, VehicleClass) -> bool,
        spot_ok: impl Fn(usize) -> bool,
    ) -> Option<Allocation> {
        let sets = self.free.get(lane)?;
        for (spot_ev, spot_acc, why) in tiers(ev, accessible, self.ev_for_others) {
            for size in class.fitting_sizes() {
                if !allowed(Pool::of(spot_ev, spot_acc), size) {
                    continue;
                }
                let cat = Category {
                    size,
                    ev: spot_ev,
                    accessible: spot_acc,
                };
                if let Some(&(dist, spot)) =
                    sets[cat.index()].iter().find(|(_, s)| spot_ok(*s as usize))
                {
                    let fit = if size == class {
                        format!("best fit: {size} spot for a {class} vehicle")
                    } else {
                        format!(
                            "no {class} spot free in this tier, so the next size that fits: {size}"
                        )
                    };
                    return Some(Allocation {
                        spot: spot as usize,
                        reason: format!(
                            "{why}; {fit}; nearest free to lane {} ({:.1} m)",
                            self.lane_ids[lane],
                            f64::from(dist) / 10.0
                        ),
                    });
                }
            }
        }
        None
    }

    /// Free spots this vehicle could use with the lot's rules, and free spots in all.
    pub fn free_counts(&self, class: VehicleClass, ev: bool, accessible: bool) -> (usize, usize) {
        let Some(sets) = self.free.first() else {
            return (0, 0);
        };
        let total = sets.iter().map(BTreeSet::len).sum();
        let usable = tiers(ev, accessible, self.ev_for_others)
            .into_iter()
            .flat_map(|(e, a, _)| {
                class.fitting_sizes().map(move |size| Category {
                    size,
                    ev: e,
                    accessible: a,
                })
            })
            .map(|c| sets[c.index()].len())
            .sum();
        (usable, total)
    }

    /// Whether a vehicle may use this spot at all (size fits; accessible only with a credential).
    pub fn fits(&self, spot: usize, class: VehicleClass, accessible: bool) -> bool {
        let c = self.categories[spot];
        c.size >= class && (!c.accessible || accessible)
    }

    /// Picks the nearest best-fitting free spot inside one pool (a reserved vehicle arriving).
    pub fn allocate_in_pool(
        &self,
        class: VehicleClass,
        pool: Pool,
        lane: usize,
    ) -> Option<Allocation> {
        let sets = self.free.get(lane)?;
        for size in class.fitting_sizes() {
            for &(ev, accessible) in pool.features() {
                let cat = Category {
                    size,
                    ev,
                    accessible,
                };
                if let Some(&(_, spot)) = sets[cat.index()].first() {
                    return Some(Allocation {
                        spot: spot as usize,
                        reason: format!(
                            "reserved {} capacity; {size} spot for a {class} vehicle, nearest free to lane {}",
                            pool.as_str(),
                            self.lane_ids[lane]
                        ),
                    });
                }
            }
        }
        None
    }

    pub fn pool_of(&self, spot: usize) -> Pool {
        let c = self.categories[spot];
        Pool::of(c.ev, c.accessible)
    }

    pub fn size_of(&self, spot: usize) -> VehicleClass {
        self.categories[spot].size
    }

    /// Spots in service and occupied, per pool and size.
    pub fn pool_counts(&self) -> PoolCounts {
        let mut out = [[(0u32, 0u32); 5]; 3];
        for (c, st) in self.categories.iter().zip(&self.state) {
            let cell = &mut out[Pool::of(c.ev, c.accessible).index()][c.size.index()];
            match st {
                SpotState::Free => cell.0 += 1,
                SpotState::Occupied => {
                    cell.0 += 1;
                    cell.1 += 1;
                }
                SpotState::OutOfService => {}
            }
        }
        out
    }

    pub fn occupied_and_in_service(&self) -> (usize, usize) {
        let occupied = self
            .state
            .iter()
            .filter(|s| **s == SpotState::Occupied)
            .count();
        let in_service = self
            .state
            .iter()
            .filter(|s| **s != SpotState::OutOfService)
            .count();
        (occupied, in_service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> (LotConfig, Allocator) {
        let c = LotConfig::demo().unwrap();
        let a = Allocator::new(&c, |_| true);
        (c, a)
    }

    #[test]
    fn standard_car_gets_the_nearest_regular_standard_spot() {
        let (c, a) = demo();
        let e1 = c.lane_index("E1").unwrap();
        let got = a
            .allocate(VehicleClass::Standard, false, false, e1)
            .unwrap();
        let spot = &c.spots[got.spot];
        assert_eq!(
            (spot.size, spot.ev, spot.accessible),
            (VehicleClass::Standard, false, false)
        );
        // No other free regular standard spot is nearer to E1.
        let best = c
            .spots
            .iter()
            .filter(|s| s.size == VehicleClass::Standard && !s.ev && !s.accessible)
            .map(|s| s.distance_dm[e1])
            .min()
            .unwrap();
        assert_eq!(spot.distance_dm[e1], best);
        assert!(
            got.reason.contains("best fit") && got.reason.contains("lane E1"),
            "{}",
            got.reason
        );
    }

    #[test]
    fn ev_goes_to_an_ev_spot_and_others_never_do_by_default() {
        let (c, mut a) = demo();
        let e1 = c.lane_index("E1").unwrap();
        let got = a.allocate(VehicleClass::Standard, true, false, e1).unwrap();
        assert!(c.spots[got.spot].ev && !c.spots[got.spot].accessible);
        // Fill every non-EV standard-or-larger spot: a non-EV car is then refused, not lent an EV spot.
        for (i, s) in c.spots.iter().enumerate() {
            if s.size >= VehicleClass::Standard && !s.ev && !s.accessible {
                a.take(i);
            }
        }
        assert_eq!(a.allocate(VehicleClass::Standard, false, false, e1), None);
        let (usable, total) = a.free_counts(VehicleClass::Standard, false, false);
        assert_eq!(usable, 0);
        assert!(total > 0);
    }

    #[test]
    fn ev_spots_lent_to_others_only_when_the_lot_allows() {
        let mut c = LotConfig::demo().unwrap();
        c.lot.ev_spots_for_others = true;
        let mut a = Allocator::new(&c, |_| true);
        for (i, s) in c.spots.iter().enumerate() {
            if s.size >= VehicleClass::Standard && !s.ev && !s.accessible {
                a.take(i);
            }
        }
        let got = a.allocate(VehicleClass::Standard, false, false, 0).unwrap();
        assert!(c.spots[got.spot].ev);
        assert!(got.reason.contains("lent"), "{}", got.reason);
    }

    #[test]
    fn accessible_spots_only_with_a_credential() {
        let (c, a) = demo();
        let got = a.allocate(VehicleClass::Standard, false, true, 0).unwrap();
        assert!(c.spots[got.spot].accessible);
        for _ in 0..3 {
            let g = a.allocate(VehicleClass::Standard, false, false, 0).unwrap();
            assert!(!c.spots[g.spot].accessible);
        }
    }

    #[test]
    fn motorcycle_best_fit_then_next_size() {
        let (c, mut a) = demo();
        for (i, s) in c.spots.iter().enumerate() {
            if s.size == VehicleClass::Motorcycle {
                a.take(i);
            }
        }
        let got = a
            .allocate(VehicleClass::Motorcycle, false, false, 0)
            .unwrap();
        assert_eq!(c.spots[got.spot].size, VehicleClass::Compact);
        assert!(got.reason.contains("next size"), "{}", got.reason);
    }

    #[test]
    fn bus_fits_only_bus_spots_and_lot_fills_up() {
        let (c, mut a) = demo();
        let buses = c
            .spots
            .iter()
            .filter(|s| s.size == VehicleClass::Bus)
            .count();
        for _ in 0..buses {
            let g = a.allocate(VehicleClass::Bus, false, false, 0).unwrap();
            assert_eq!(c.spots[g.spot].size, VehicleClass::Bus);
            a.take(g.spot);
        }
        assert_eq!(a.allocate(VehicleClass::Bus, false, false, 0), None);
    }

    #[test]
    fn ties_are_broken_deterministically_and_release_restores() {
        let (_, mut a) = demo();
        let g1 = a.allocate(VehicleClass::Standard, false, false, 1).unwrap();
        a.take(g1.spot);
        let g2 = a.allocate(VehicleClass::Standard, false, false, 1).unwrap();
        assert_ne!(g1.spot, g2.spot);
        a.release(g1.spot);
        assert_eq!(
            a.allocate(VehicleClass::Standard, false, false, 1).unwrap(),
            g1
        );
        a.out_of_service(g1.spot);
        assert_eq!(
            a.allocate(VehicleClass::Standard, false, false, 1)
                .unwrap()
                .spot,
            g2.spot
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Arrive {
            class: usize,
            ev: bool,
            accessible: bool,
            lane: usize,
        },
        Leave(usize),
        OutOfService(usize),
        BackInService(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0usize..5, any::<bool>(), prop::bool::weighted(0.1), 0usize..4)
                .prop_map(|(class, ev, accessible, lane)| Op::Arrive { class, ev, accessible, lane }),
            3 => (0usize..400).prop_map(Op::Leave),
            1 => (0usize..298).prop_map(Op::OutOfService),
            1 => (0usize..298).prop_map(Op::BackInService),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever happened before, an allocation is a free spot the vehicle may use, of the
        /// best-fitting size within its tier, and no eligible spot of that tier and size is nearer.
        #[test]
        fn allocation_invariants(ops in prop::collection::vec(op(), 1..400), ev_for_others in any::<bool>()) {
            let mut config = LotConfig::demo().unwrap();
            config.lot.ev_spots_for_others = ev_for_others;
            let mut a = Allocator::new(&config, |_| true);
            let mut parked: Vec<usize> = Vec::new();
            for op in ops {
                match op {
                    Op::Arrive { class, ev, accessible, lane } => {
                        let class = VehicleClass::ALL[class];
                        let Some(got) = a.allocate(class, ev, accessible, lane) else {
                            let (usable, _) = a.free_counts(class, ev, accessible);
                            prop_assert_eq!(usable, 0, "refused although a usable spot was free");
                            continue;
                        };
                        let spot = &config.spots[got.spot];
                        prop_assert_eq!(a.state(got.spot), SpotState::Free);
                        prop_assert!(spot.size >= class, "too small");
                        prop_assert!(!spot.accessible || accessible, "accessible spot without a credential");
                        prop_assert!(!spot.ev || ev || ev_for_others, "EV spot lent without the lot setting");
                        let tier = tiers(ev, accessible, ev_for_others);
                        let my_tier = tier.iter().position(|t| (t.0, t.1) == (spot.ev, spot.accessible)).unwrap();
                        for (i, s) in config.spots.iter().enumerate() {
                            if a.state(i) != SpotState::Free || s.size < class {
                                continue;
                            }
                            let t = tier.iter().position(|t| (t.0, t.1) == (s.ev, s.accessible));
                            if let Some(t) = t {
                                prop_assert!(t >= my_tier, "a free spot of a preferred tier was skipped: {}", s.id);
                                if t == my_tier {
                                    prop_assert!(s.size >= spot.size, "a better-fitting size was free: {}", s.id);
                                    if s.size == spot.size {
                                        prop_assert!(s.distance_dm[lane] >= spot.distance_dm[lane], "{} is nearer than {}", s.id, spot.id);
                                    }
                                }
                            }
                        }
                        a.take(got.spot);
                        parked.push(got.spot);
                    }
                    Op::Leave(k) if !parked.is_empty() => {
                        let s = parked.swap_remove(k % parked.len());
                        if a.state(s) == SpotState::Occupied {
                            a.release(s);
                        }
                    }
                    Op::OutOfService(s) if a.state(s) == SpotState::Free => a.out_of_service(s),
                    Op::BackInService(s) if a.state(s) == SpotState::OutOfService => a.release(s),
                    _ => {}
                }
            }
        }
    }
}
