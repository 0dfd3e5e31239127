// The lane kiosk: kiosk/index.html?lane=E1 inside the app's kiosk window.
import "./style.css";
import { api, events } from "../../ts/api";
import { pickLang } from "./i18n";
import { mountKiosk } from "./kiosk";

const query = new URLSearchParams(location.search);
mountKiosk(document, {
  lane: query.get("lane"),
  lang: pickLang(query.get("lang"), navigator.languages ?? []),
  api,
  events,
});

// A kiosk nobody attends recovers by itself: after a script error it reloads, and the lane's
// current screen is fetched again on load (the lane's state is in the app, not in this page).
let reloading = false;
const recover = (e: unknown) => {
  console.error("kiosk: reloading after an error", e);
  if (reloading) return;
  reloading = true;
  setTimeout(() => location.reload(), 5000);
};
window.addEventListener("error", (e) => recover(e.error ?? e.message));
