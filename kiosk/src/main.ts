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
