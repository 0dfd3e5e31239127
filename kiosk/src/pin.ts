// The staff PIN dialog: a pad of digits over the kiosk; closes itself after 20 s (visibly).
import { startCountdown, type Countdown } from "./countdown";
import { t, type Lang } from "./i18n";
import { errorOf } from "./types";

export const PIN_SECONDS = 20;

export interface PinDialog {
  open(): void;
  close(): void;
  isOpen(): boolean;
  /** Re-labels it in the language now chosen. */
  paint(lang: Lang): void;
}

export function mountPinDialog(
  doc: Document,
  opts: {
    unlock: (pin: string) => Promise<void>;
    lang: () => Lang;
    /** The rest of the page, made inert while the dialog is open. */
    behind: HTMLElement[];
    /** Where focus goes back to. */
    opener: HTMLElement;
  },
): PinDialog {
  const dlg = doc.createElement("div");
  dlg.id = "pin-dialog";
  dlg.className = "pin-dialog";
  dlg.setAttribute("role", "dialog");
  dlg.setAttribute("aria-modal", "true");
  dlg.setAttribute("aria-labelledby", "pin-heading");
  dlg.hidden = true;
  dlg.innerHTML = `
    <form id="pin-form" class="pin-form" novalidate>
      <h2 id="pin-heading"></h2>
      <label for="pin" id="pin-label"></label>
      <input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off"
        pattern="[0-9]*" maxlength="12" aria-describedby="pin-error pin-countdown">
      <div id="pin-pad" class="pin-pad" role="group">
        ${[1, 2, 3, 4, 5, 6, 7, 8, 9]
          .map((d) => `<button type="button" class="pin-key" data-digit="${d}">${d}</button>`)
          .join("")}
        <button type="button" class="pin-key pin-key-text" id="pin-clear"></button>
        <button type="button" class="pin-key" data-digit="0">0</button>
        <button type="button" class="pin-key pin-key-text" id="pin-delete"></button>
      </div>
      <p id="pin-error" class="pin-error" role="alert"></p>
      <p id="pin-countdown" class="pin-countdown" role="timer"></p>
      <div class="pin-actions">
        <button type="submit" id="pin-submit" class="btn btn-primary"></button>
        <button type="button" id="pin-cancel" class="btn"></button>
      </div>
    </form>`;
  doc.body.append(dlg);

  const q = <T extends HTMLElement>(sel: string) => dlg.querySelector<T>(sel)!;
  const input = q<HTMLInputElement>("#pin");
  const error = q<HTMLElement>("#pin-error");
  const countdownEl = q<HTMLElement>("#pin-countdown");
  const submit = q<HTMLButtonElement>("#pin-submit");
  let timer: Countdown | null = null;
  let left = PIN_SECONDS;

  const showLeft = () => {
    countdownEl.textContent = t(opts.lang(), "pin.countdown", { seconds: left });
  };
  const restartTimer = () => {
    timer?.stop();
    timer = startCountdown(
      PIN_SECONDS,
      (n) => {
        left = n;
        showLeft();
      },
      () => close(),
    );
  };

  const paint = (lang: Lang) => {
    q("#pin-heading").textContent = t(lang, "pin.heading");
    q("#pin-label").textContent = t(lang, "pin.label");
    q("#pin-pad").setAttribute("aria-label", t(lang, "pin.pad"));
    q("#pin-clear").textContent = t(lang, "pin.clear");
    q("#pin-delete").textContent = t(lang, "pin.delete");
    submit.textContent = t(lang, "pin.submit");
    q("#pin-cancel").textContent = t(lang, "pin.cancel");
    if (error.dataset.wrong === "1") error.textContent = t(lang, "pin.wrong");
    if (!dlg.hidden) showLeft();
  };

  const setError = (text: string, wrong: boolean) => {
    error.dataset.wrong = wrong ? "1" : "";
    error.textContent = text;
  };

  const open = () => {
    if (!dlg.hidden) return;
    input.value = "";
    setError("", false);
    paint(opts.lang());
    for (const b of opts.behind) b.inert = true;
    dlg.hidden = false;
    restartTimer();
    input.focus();
  };

  function close() {
    timer?.stop();
    timer = null;
    input.value = "";
    setError("", false);
    dlg.hidden = true;
    for (const b of opts.behind) b.inert = false;
    opts.opener.focus();
  }

  dlg.addEventListener("click", (e) => {
    const key = (e.target as HTMLElement).closest<HTMLButtonElement>("button");
    if (!key) return;
    if (key.dataset.digit !== undefined) {
      if (input.value.length < 12) input.value += key.dataset.digit;
    } else if (key.id === "pin-clear") {
      input.value = "";
    } else if (key.id === "pin-delete") {
      input.value = input.value.slice(0, -1);
    } else if (key.id === "pin-cancel") {
      close();
      return;
    } else {
      return;
    }
    restartTimer();
  });
  input.addEventListener("input", () => {
    input.value = input.value.replace(/\D/g, "");
    restartTimer();
  });
  dlg.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  q<HTMLFormElement>("#pin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const pin = input.value;
    submit.disabled = true;
    restartTimer();
    opts
      .unlock(pin)
      .then(() => {
        // The app closes the kiosk window; if it is still here, the dialog steps aside.
        if (!dlg.hidden) close();
      })
      .catch((err: unknown) => {
        const { kind, message } = errorOf(err);
        input.value = "";
        if (kind === "forbidden") setError(t(opts.lang(), "pin.wrong"), true);
        else setError(t(opts.lang(), "error.prefix", { message }), false);
        input.focus();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });

  return { open, close, isOpen: () => !dlg.hidden, paint };
}
