// The kiosk page: header (lane, languages), the lane's current screen, the staff corner. It draws
// what the lane says and sends the driver's presses; the lane decides everything else.
import { startCountdown, type Countdown } from "./countdown";
import { LANGS, t, type Lang } from "./i18n";
import { mountPinDialog } from "./pin";
import { renderScreen, updateCountdown } from "./render";
import { errorOf, type KioskApi, type KioskEvents, type Screen } from "./types";
import { view, type Action } from "./view";

export interface Kiosk {
  /** Draws a screen as if the lane had just sent it. */
  show(screen: Screen): void;
  setLang(lang: Lang): void;
  lang(): Lang;
  /** Resolves once the first screen is drawn (or its fetch failed). */
  ready: Promise<void>;
  destroy(): void;
}

export function mountKiosk(
  doc: Document,
  opts: { lane: string | null; lang: Lang; api: KioskApi; events: KioskEvents },
): Kiosk {
  const lane = opts.lane ?? "";
  let lang = opts.lang;
  let screen: Screen = { kind: "idle" };
  let printing = false;
  let declined: Countdown | null = null;
  let secondsLeft: number | undefined;
  let heard = false;
  let unlisten: (() => void) | null = null;
  let destroyed = false;

  doc.body.innerHTML = `
    <header class="top" id="top">
      <p class="lane-name" id="lane-name"></p>
      <div class="langs" id="langs" role="group">
        ${LANGS.map(
          (l) => `<button type="button" class="lang" data-lang="${l}" lang="${l}" aria-pressed="false"></button>`,
        ).join("")}
      </div>
    </header>
    <main id="main" class="main">
      <p id="kiosk-error" class="kiosk-error" role="alert"></p>
      <div id="screen" class="screen" aria-live="polite" tabindex="-1"></div>
    </main>
    <footer class="corner" id="corner">
      <button type="button" id="admin" class="admin"></button>
    </footer>`;

  const q = <T extends HTMLElement>(sel: string) => doc.querySelector<T>(sel)!;
  const root = q<HTMLElement>("#screen");
  const errorEl = q<HTMLElement>("#kiosk-error");
  const admin = q<HTMLButtonElement>("#admin");
  const pin = mountPinDialog(doc, {
    unlock: (p) => opts.api.unlockKiosk(p),
    lang: () => lang,
    behind: [q("#top"), q("#main"), q("#corner")],
    opener: admin,
  });

  const showError = (e: unknown) => {
    if (destroyed) return;
    errorEl.textContent = t(lang, "error.prefix", { message: errorOf(e).message });
  };

  const draw = () => {
    const vm = view(screen, lang, { lane, printing, secondsLeft });
    renderScreen(root, vm, act);
  };

  const act = (a: Action) => {
    errorEl.textContent = "";
    if (a.type === "ticket") {
      if (printing) return;
      printing = true;
      draw();
      opts.api.pressTicket(lane, a.choice).catch((e: unknown) => {
        printing = false;
        draw();
        showError(e);
      });
    } else {
      opts.api.payAgain(lane).catch(showError);
    }
  };

  const paintShell = () => {
    doc.documentElement.lang = lang;
    doc.title = lane ? t(lang, "app.title", { lane }) : t(lang, "app.titleNoLane");
    q("#lane-name").textContent = lane ? t(lang, "lane.label", { lane }) : "";
    q("#langs").setAttribute("aria-label", t(lang, "lang.group"));
    for (const b of doc.querySelectorAll<HTMLButtonElement>("[data-lang]")) {
      const l = b.dataset.lang as Lang;
      b.textContent = t(l, `lang.${l}`);
      b.setAttribute("aria-pressed", String(l === lang));
    }
    admin.textContent = t(lang, "admin.button");
    pin.paint(lang);
  };

  const show = (next: Screen) => {
    if (destroyed) return;
    screen = next;
    printing = false;
    errorEl.textContent = "";
    declined?.stop();
    declined = null;
    secondsLeft = undefined;
    if (next.kind === "declined" && next.retry_seconds > 0) {
      declined = startCountdown(
        next.retry_seconds,
        (n) => {
          secondsLeft = n;
          if (n > 0) {
            updateCountdown(root, t(lang, "declined.countdown", { seconds: n }));
          }
        },
        () => draw(),
      );
    }
    draw();
  };

  const setLang = (l: Lang) => {
    lang = l;
    paintShell();
    draw();
  };

  for (const b of doc.querySelectorAll<HTMLButtonElement>("[data-lang]")) {
    b.addEventListener("click", () => setLang(b.dataset.lang as Lang));
  }
  admin.addEventListener("click", () => pin.open());

  paintShell();
  draw();

  let ready: Promise<void>;
  if (!opts.lane) {
    errorEl.textContent = t(lang, "error.noLane");
    ready = Promise.resolve();
  } else {
    const listening = opts.events
      .laneScreen((e) => {
        if (e.lane !== lane) return;
        heard = true;
        show(e.screen);
      })
      .then((u) => {
        if (destroyed) u();
        else unlisten = u;
      })
      .catch(showError);
    const fetched = opts.api
      .laneScreen(lane)
      .then((s) => {
        // An event that came while fetching is newer than the answer.
        if (!heard) show(s);
      })
      .catch(showError);
    ready = Promise.all([listening, fetched]).then(() => undefined);
  }

  return {
    show,
    setLang,
    lang: () => lang,
    ready,
    destroy() {
      destroyed = true;
      declined?.stop();
      pin.close();
      unlisten?.();
    },
  };
}
