//! The app's boundary with its two frontends, declared once: every command (its arguments and
//! its reply) and every event (its payload). From these tables come both sides:
//! - the Tauri commands themselves, each a thin wrapper over its function in `commands` or
//!   `office`, and the invoke handler that registers them;
//! - `ts/api.ts`, the frontends' only way in: the types (from `api.rs`, `lanes::Screen` and core's
//!   enums, with everything they reach), a typed function per command and a listener per event.
//!
//! `api_ts_is_current` checks that the checked-in `ts/api.ts` is what these tables make;
//! `GATEHOUSE_WRITE_BINDINGS=1 cargo test -p gatehouse-app api_ts` rewrites it. Adding a command
//! is one line here plus its function; the frontends see it after that.
//!
//! How a command runs, by its first word: `async` (its function is async), `thread` (a
//! blocking read, run off the main thread so painting never waits) or `main` (quick, on the
//! main thread). Before the `;` are what Tauri injects: `app` (the shared state) and `window`
//! (the calling window, whose login the engine checks).

use crate::api::*;
use crate::app::App;
use crate::{commands, office};
use gatehouse_lanes::Screen;
use std::sync::Arc;
use tauri::{Emitter, State, WebviewWindow};
#[cfg(test)]
use ts_rs::TS;

type St<'a> = State<'a, Arc<App>>;

macro_rules! app_commands {
    (@ctx app) => { St<'_> };
    (@ctx window) => { WebviewWindow };
    (@wrap async $module:ident $name:ident ($($ctx:ident),*; $($arg:ident: $ty:ty),*) -> $reply:ty) => {
        #[tauri::command]
        async fn $name($($ctx: app_commands!(@ctx $ctx),)* $($arg: $ty),*) -> Answer<$reply> {
            $module::$name($($ctx,)* $($arg),*).await
        }
    };
    (@wrap thread $module:ident $name:ident ($($ctx:ident),*; $($arg:ident: $ty:ty),*) -> $reply:ty) => {
        #[tauri::command(async)]
        fn $name($($ctx: app_commands!(@ctx $ctx),)* $($arg: $ty),*) -> Answer<$reply> {
            $module::$name($($ctx,)* $($arg),*)
        }
    };
    (@wrap main $module:ident $name:ident ($($ctx:ident),*; $($arg:ident: $ty:ty),*) -> $reply:ty) => {
        #[tauri::command]
        fn $name($($ctx: app_commands!(@ctx $ctx),)* $($arg: $ty),*) -> Answer<$reply> {
            $module::$name($($ctx,)* $($arg),*)
        }
    };
    ($(
        $(#[doc = $doc:literal])*
        $how:ident $module:ident::$name:ident($($ctx:ident),*; $($arg:ident: $ty:ty),*) -> $reply:ty;
    )*) => {
        $( app_commands!(@wrap $how $module $name ($($ctx),*; $($arg: $ty),*) -> $reply); )*

        /// Registers every command of the table with Tauri.
        pub fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// The table as data, for `ts/api.ts`.
        #[cfg(test)]
        fn command_specs() -> Vec<CommandSpec> {
            vec![$(CommandSpec {
                name: stringify!($name),
                doc: vec![$($doc),*],
                args: vec![$((stringify!($arg), ts_arg::<$ty>())),*],
                reply: <$reply as TS>::name(),
            }),*]
        }

        /// Visits every type a command takes or gives, so `ts/api.ts` declares it.
        #[cfg(test)]
        fn visit_command_types(v: &mut impl ts_rs::TypeVisitor) {
            $( $( v.visit::<$ty>(); )* v.visit::<$reply>(); )*
        }
    };
}

app_commands! {
    async commands::login(app, window; user: String, password: String, code: Option<String>) -> SessionView;
    /// The demo only: log in one of the demo's people (an admin's second factor typed for you).
    async commands::demo_login(app, window; user: String) -> SessionView;
    async commands::logout(app, window;) -> ();
    thread commands::overview(app;) -> Overview;
    thread commands::feed(app; limit: u32) -> Vec<FeedItem>;
    thread commands::alerts(app;) -> Vec<AlertView>;
    async commands::ack_alert(app, window; id: i64, note: String) -> ();
    /// The booth: a stay by its ticket number or QR text, or by its plate.
    thread commands::find_stay(app; text: String) -> QuoteView;
    /// A valet step at the booth: `plate` and `vehicle_class` for a drop-off, `spot` for parking.
    async commands::valet(app, window; step: ValetStep, tag: String, plate: String, vehicle_class: String, spot: String) -> ValetInfo;
    async commands::lost_ticket(app, window; plate: String, vehicle_class: gatehouse_core::VehicleClass) -> QuoteView;
    async commands::pay(app, window; ticket: String, method: BoothMethod, handed: String) -> PaidView;
    async commands::refund(app, window; ticket: String, amount_text: String, why: String) -> String;
    async commands::override_spot(app, window; ticket: String, spot: String, why: String) -> String;
    async commands::set_spot_service(app, window; spot: String, in_service: bool, why: String) -> String;
    async commands::open_gate(app, window; lane_id: String, why: String) -> ();
    async commands::set_lane_open(app, window; lane_id: String, open: bool, why: String) -> ();
    async commands::set_free_exit(app, window; lane_id: String, on: bool, why: String) -> ();
    /// The demo: a vehicle drives up; at an exit `pays_with` is a voucher or prepaid card code.
    main commands::send_vehicle(app; lane_id: String, plate: String, pays_with: Option<String>) -> String;
    thread commands::lane_frame(app; lane_id: String) -> Option<LaneFrameView>;
    async commands::open_shift(app, window; float: String) -> ShiftInfo;
    async commands::close_shift(app, window; counted: String) -> ShiftInfo;
    thread commands::day_report_view(app; day: String) -> ReportView;
    thread commands::export_report(app; day: String, format: ReportFormat) -> Written;
    /// The kiosk: what the lane's screen shows now.
    thread commands::lane_screen(app; lane_id: String) -> Screen;
    /// The kiosk: the driver pressed the ticket button, or one of its choices.
    main commands::press_ticket(app; lane_id: String, choice: TicketChoice) -> ();
    main commands::pay_again(app; lane_id: String) -> ();
    /// The kiosk: an admin's PIN closes the kiosk window; a wrong PIN changes nothing.
    main commands::unlock_kiosk(app, window; pin: String) -> ();
    main commands::console_ready(app;) -> ();
    main commands::painted(app; seq: i64) -> ();
    main commands::figures(app;) -> AppFigures;
    thread office::reservations(app; days: u32) -> Vec<ReservationRow>;
    async office::reserve(app, window; form: ReservationForm) -> ReservationRow;
    async office::cancel_reservation(app, window; code: String) -> String;
    thread office::permits(app;) -> Vec<PermitRow>;
    async office::issue_permit(app, window; form: PermitForm) -> String;
    async office::revoke_permit(app, window; id: i64, why: String) -> String;
    thread office::accounts(app;) -> Vec<AccountRow>;
    async office::open_account(app, window; holder: String, days: u32) -> AccountRow;
    async office::top_up(app, window; id: i64, method: BoothMethod, amount_text: String) -> AccountRow;
    thread office::vouchers(app;) -> Vec<VoucherRow>;
    async office::issue_voucher(app, window; merchant: String, value: u32, percent: bool, days: u32) -> VoucherRow;
    thread office::users(app, window;) -> Vec<UserRow>;
    async office::add_user(app, window; name: String, role: gatehouse_core::Role, password: String) -> UserAddedView;
    async office::set_user_enabled(app, window; name: String, enabled: bool) -> String;
}

/// An event the app sends to its windows, with its payload's type.
pub trait AppEvent {
    const NAME: &'static str;
    type Payload: serde::Serialize + Clone;
}

/// Sends `payload` as event `E` to every window.
pub fn emit<E: AppEvent>(to: &tauri::AppHandle, payload: E::Payload) {
    // A window that is gone or not yet loaded misses the event; the next one brings it up to date.
    let _ = to.emit(E::NAME, payload);
}

macro_rules! app_events {
    ($(
        $(#[doc = $doc:literal])*
        $event:ident $name:literal: $payload:ty;
    )*) => {
        $(
            $(#[doc = $doc])*
            pub struct $event;
            impl AppEvent for $event {
                const NAME: &'static str = $name;
                type Payload = $payload;
            }
        )*

        #[cfg(test)]
        fn event_specs() -> Vec<EventSpec> {
            vec![$(EventSpec { name: $name, doc: vec![$($doc),*], payload: <$payload as TS>::name() }),*]
        }

        #[cfg(test)]
        fn visit_event_types(v: &mut impl ts_rs::TypeVisitor) {
            $( v.visit::<$payload>(); )*
        }
    };
}

app_events! {
    /// A journal entry, summarised for the console's feed.
    LotEvent "lot-event": FeedItem;
    /// A lane's screen changed.
    LaneScreenChanged "lane-screen": LaneScreen;
    /// Something a lane did or noticed, in words; device health changes carry the device.
    LaneNoticed "lane-notice": LaneNoticeView;
    /// A lane's camera gave a frame for a vehicle, with the plate read in it.
    LaneFrame "lane-frame": LaneFrameView;
}

/// An argument's TypeScript type. JSON carries Rust's integers as numbers (ids and sequence
/// numbers stay far below 2^53), so an `i64` is a `number`, as in the reply types.
#[cfg(test)]
fn ts_arg<T: TS>() -> String {
    match T::name().as_str() {
        "bigint" => "number".to_string(),
        name => name.to_string(),
    }
}

#[cfg(test)]
struct CommandSpec {
    name: &'static str,
    doc: Vec<&'static str>,
    args: Vec<(&'static str, String)>,
    reply: String,
}

#[cfg(test)]
struct EventSpec {
    name: &'static str,
    doc: Vec<&'static str>,
    payload: String,
}

/// `lane_id` → `laneId`: Tauri's name for a command's argument, and the frontends' too.
#[cfg(test)]
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
fn doc_comment(doc: &[&str], indent: &str) -> String {
    match doc {
        [] => String::new(),
        [one] => format!("{indent}/**{one} */\n"),
        lines => {
            let mut out = format!("{indent}/**\n");
            for l in lines {
                out.push_str(&format!("{indent} *{l}\n"));
            }
            out.push_str(&format!("{indent} */\n"));
            out
        }
    }
}

/// Collects the declaration of every named type the boundary reaches, once each, by name (the
/// order ts-rs visits dependencies in changes from one build to the next).
#[cfg(test)]
#[derive(Default)]
struct Declarations {
    seen: std::collections::HashSet<std::any::TypeId>,
    decls: std::collections::BTreeMap<String, String>,
}

#[cfg(test)]
impl ts_rs::TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(std::any::TypeId::of::<T>()) {
            return;
        }
        // Named types are declared; `Vec`, `Option` and the like only lead to their contents.
        if T::output_path().is_some() {
            self.decls.insert(T::ident(), T::decl());
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

/// The whole of `ts/api.ts`.
#[cfg(test)]
pub fn api_ts() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/boundary.rs and the types it names by\n\
         // `GATEHOUSE_WRITE_BINDINGS=1 cargo test -p gatehouse-app api_ts`.\n\
         // Do not edit: CI checks that this file matches the Rust side.\n\
         import { call, listenTo, type UnlistenFn } from \"./invoke\";\n\
         export { asApiError } from \"./invoke\";\n",
    );
    let mut types = Declarations::default();
    ts_rs::TypeVisitor::visit::<ApiError>(&mut types);
    visit_command_types(&mut types);
    visit_event_types(&mut types);
    for decl in types.decls.values() {
        out.push_str("\nexport ");
        out.push_str(decl);
        out.push('\n');
    }
    out.push_str("\n/** The app's commands: each refused one rejects with an `ApiError`. */\nexport const api = {\n");
    for c in command_specs() {
        out.push_str(&doc_comment(&c.doc, "  "));
        let params: Vec<String> = c
            .args
            .iter()
            .map(|(n, t)| format!("{}: {t}", camel(n)))
            .collect();
        let keys: Vec<String> = c.args.iter().map(|(n, _)| camel(n)).collect();
        let reply = if c.reply == "null" { "void" } else { &c.reply };
        let args = if keys.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", keys.join(", "))
        };
        out.push_str(&format!(
            "  {}: ({}) => call<{reply}>(\"{}\"{args}),\n",
            camel(c.name),
            params.join(", "),
            c.name
        ));
    }
    out.push_str("};\n\n/** The app's live events. */\nexport const events = {\n");
    for e in event_specs() {
        out.push_str(&doc_comment(&e.doc, "  "));
        out.push_str(&format!(
            "  {}: (f: (e: {p}) => void): Promise<UnlistenFn> => listenTo<{p}>(\"{}\", f),\n",
            camel(&e.name.replace('-', "_")),
            e.name,
            p = e.payload
        ));
    }
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const API_TS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ts/api.ts");

    #[test]
    fn api_ts_is_current() {
        let now = api_ts();
        if std::env::var_os("GATEHOUSE_WRITE_BINDINGS").is_some() {
            std::fs::write(API_TS, &now).unwrap();
        }
        let checked_in = std::fs::read_to_string(API_TS).unwrap_or_default();
        assert!(
            checked_in == now,
            "ts/api.ts does not match src-tauri/src/boundary.rs: run GATEHOUSE_WRITE_BINDINGS=1 cargo test -p gatehouse-app api_ts, then the frontends' type-check"
        );
    }

    #[test]
    fn every_type_the_boundary_reaches_is_declared_once() {
        let ts = api_ts();
        for name in [
            "Screen",
            "ErrorKind",
            "Role",
            "LaneKind",
            "SpotState",
            "FeedItem",
        ] {
            assert_eq!(
                ts.matches(&format!("export type {name} =")).count(),
                1,
                "{name} in {ts}"
            );
        }
    }

    #[test]
    fn an_argument_reaches_tauri_by_its_camel_case_name() {
        assert_eq!(camel("lane_id"), "laneId");
        assert_eq!(camel("amount_text"), "amountText");
        assert_eq!(camel("pin"), "pin");
        let spec = command_specs()
            .into_iter()
            .find(|c| c.name == "set_spot_service")
            .unwrap();
        assert!(api_ts().contains(
            "setSpotService: (spot: string, inService: boolean, why: string) => call<string>(\"set_spot_service\", { spot, inService, why }),"
        ));
        assert_eq!(spec.reply, "string");
    }

    #[test]
    fn a_screen_reaches_the_kiosk_tagged_by_its_kind() {
        let v = serde_json::to_value(Screen::Refused {
            reason: "no spot".into(),
        })
        .unwrap();
        assert_eq!(v["kind"], "refused");
        assert_eq!(v["reason"], "no spot");
    }
}
