// Screen → what to draw, in the driver's language. Pure: no DOM, no calls.
import { t, type Lang, type MessageKey } from "./i18n";
import { formatMoney } from "./money";
import { TICKET_CHOICES, type ScreenKind, type Screen, type TicketChoice } from "./types";

export type Action = { type: "ticket"; choice: TicketChoice } | { type: "pay_again" };

export interface ButtonModel {
  id: string;
  text: string;
  action: Action;
  disabled: boolean;
  primary: boolean;
}

export interface Fact {
  id: "spot" | "level" | "way";
  label: string;
  value: string;
}

export interface MapModel {
  label: string;
  lane: string;
  level: string;
  spot: string;
  you: string;
}

export interface ViewModel {
  kind: ScreenKind;
  heading: string;
  /** The big word or figure: FULL or the amount. */
  big?: { id: "full" | "amount"; text: string; label?: string };
  /** The plate read, shown in #plate. */
  plate?: string;
  /** The lane's own reason text (English, as given), shown in #reason. */
  reason?: string;
  /** Translated paragraphs, in order. */
  body: string[];
  /** `how` an unpaid stay pays, shown in #how. */
  how?: string;
  /** A secondary line under the body, smaller (the pay screen's other ways to pay), in #note. */
  note?: string;
  facts: Fact[];
  map?: MapModel;
  lines?: { label: string; items: string[] };
  buttons: ButtonModel[];
  /** Label of the ticket choices' group, when there are choices. */
  choicesLabel?: string;
  /** "printing…" after a press. */
  status?: string;
  /** The declined screen's visible countdown text. */
  countdown?: string;
  attract: boolean;
}

export interface ViewOptions {
  lane: string;
  /** A ticket button was pressed on this screen: buttons off, "printing…" shown. */
  printing?: boolean;
  /** Seconds left on the declined screen's countdown (the lane's retry window, counted down
   *  here only for the driver to see; the lane itself calls the attendant when it is up). */
  secondsLeft?: number;
}

const CHOICE_KEYS: Record<TicketChoice, MessageKey> = {
  standard: "choice.standard",
  charger: "choice.charger",
  accessible: "choice.accessible",
  motorcycle: "choice.motorcycle",
};

function choices(lang: Lang, printing: boolean): ButtonModel[] {
  return TICKET_CHOICES.map((choice) => ({
    id: `ticket-${choice}`,
    text: t(lang, CHOICE_KEYS[choice]),
    action: { type: "ticket", choice },
    disabled: printing,
    primary: choice === "standard",
  }));
}

function way(
  lang: Lang,
  lane: string,
  s: { spot: string; level: string; way: string },
): Pick<ViewModel, "facts" | "map"> {
  return {
    facts: [
      { id: "spot", label: t(lang, "spot.label"), value: s.spot },
      { id: "level", label: t(lang, "level.label"), value: s.level },
      { id: "way", label: t(lang, "way.label"), value: s.way },
    ],
    map: {
      label: t(lang, "map.label", { lane, level: s.level, spot: s.spot }),
      lane: `${t(lang, "map.lane")} ${lane}`.trim(),
      level: t(lang, "map.level", { level: s.level }),
      spot: t(lang, "map.spot", { spot: s.spot }),
      you: t(lang, "map.you"),
    },
  };
}

export function view(screen: Screen, lang: Lang, opts: ViewOptions): ViewModel {
  const printing = opts.printing ?? false;
  const base: ViewModel = {
    kind: screen.kind,
    heading: "",
    body: [],
    facts: [],
    buttons: [],
    attract: false,
  };
  const withChoices = (): Partial<ViewModel> => ({
    buttons: choices(lang, printing),
    choicesLabel: t(lang, "choice.group"),
    status: printing ? t(lang, "press.printing") : undefined,
  });
  switch (screen.kind) {
    case "idle":
      return {
        ...base,
        heading: t(lang, "idle.heading"),
        body: [t(lang, "idle.drive"), t(lang, "idle.price")],
        attract: true,
      };
    case "welcome":
      return {
        ...base,
        heading: t(lang, "welcome.heading"),
        plate: screen.plate ? t(lang, "welcome.plate", { plate: screen.plate }) : undefined,
        body: [...(screen.plate ? [] : [t(lang, "welcome.reading")]), t(lang, "welcome.choose")],
        ...withChoices(),
      };
    case "press_for_ticket":
      return {
        ...base,
        heading: t(lang, "press.heading"),
        body: [t(lang, "press.body")],
        ...withChoices(),
      };
    case "take_ticket":
      return {
        ...base,
        heading: t(lang, "take.heading"),
        body: [t(lang, "take.body")],
        ...way(lang, opts.lane, screen),
      };
    case "proceed":
      return {
        ...base,
        heading: t(lang, "proceed.heading", { plate: screen.plate }),
        body: [t(lang, "proceed.body")],
        ...way(lang, opts.lane, screen),
      };
    case "full":
      return {
        ...base,
        heading: t(lang, "full.heading"),
        big: { id: "full", text: t(lang, "full.big") },
        body: [t(lang, "full.body")],
      };
    case "refused":
      return {
        ...base,
        heading: t(lang, "refused.heading"),
        reason: screen.reason,
        body: [t(lang, "refused.body")],
      };
    case "wait_for_attendant":
      return {
        ...base,
        heading: t(lang, "wait.heading"),
        reason: screen.reason,
        body: [t(lang, "wait.body")],
      };
    case "lane_closed":
      return { ...base, heading: t(lang, "closed.heading"), body: [t(lang, "closed.body")] };
    case "scan_ticket":
      return { ...base, heading: t(lang, "scan.heading"), body: [t(lang, "scan.body")] };
    case "pay_here":
      return {
        ...base,
        heading: t(lang, "pay.heading"),
        big: {
          id: "amount",
          text: formatMoney(screen.amount, screen.currency, lang),
          label: t(lang, "pay.amountLabel"),
        },
        lines: { label: t(lang, "pay.linesLabel"), items: [...screen.lines] },
        body: [t(lang, "pay.card")],
        note: t(lang, "pay.otherWays"),
      };
    case "declined": {
      const left = Math.max(0, Math.min(opts.secondsLeft ?? screen.retry_seconds, screen.retry_seconds));
      return {
        ...base,
        heading: t(lang, "declined.heading"),
        reason: screen.reason,
        big: {
          id: "amount",
          text: formatMoney(screen.amount, screen.currency, lang),
          label: t(lang, "pay.amountLabel"),
        },
        buttons: [
          {
            id: "pay-again",
            text: t(lang, "declined.payAgain"),
            action: { type: "pay_again" },
            disabled: false,
            primary: true,
          },
        ],
        countdown:
          left > 0
            ? t(lang, "declined.countdown", { seconds: left })
            : t(lang, "declined.attendantCalled"),
      };
    }
    case "unpaid":
      return {
        ...base,
        heading: t(lang, "unpaid.heading"),
        big: {
          id: "amount",
          text: formatMoney(screen.amount, screen.currency, lang),
          label: t(lang, "unpaid.amountLabel"),
        },
        how: t(lang, "unpaid.how", { how: screen.how }),
      };
    case "goodbye":
      return {
        ...base,
        heading: t(lang, "goodbye.heading"),
        plate: screen.plate ? t(lang, "goodbye.plate", { plate: screen.plate }) : undefined,
        body: [t(lang, "goodbye.body")],
      };
    case "free_exit":
      return { ...base, heading: t(lang, "free.heading"), body: [t(lang, "free.body")] };
  }
}
