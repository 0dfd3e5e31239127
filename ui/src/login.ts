// The login screen.
import { api, asApiError, type DemoUser, type SessionView } from "../../ts/api";
import { button, byId, field, h } from "./dom";

export function loginView(onLogin: (s: SessionView) => void): HTMLElement {
  const form = h(
    "form",
    { id: "login-form", class: "login-form", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title" }, "Gatehouse console"),
    h("p", { class: "muted" }, "Log in with your user name and password."),
    field("login-user", "User", { autocomplete: "username", required: true }),
    field("login-password", "Password", {
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    field("login-code", "Second-factor code (if you have one)", {
      inputmode: "numeric",
      autocomplete: "one-time-code",
    }),
    h("button", { type: "submit", id: "login-submit", class: "primary" }, "Log in"),
    h("p", { id: "login-error", role: "alert", class: "error-text" }),
  );
  const demo = h(
    "section",
    { id: "demo-users", class: "demo-users", "aria-labelledby": "demo-title", hidden: true },
    h("h2", { id: "demo-title" }, "Demo users"),
    h("p", { class: "muted" }, "Choose one to fill in the form."),
    h("ul", { id: "demo-user-list" }),
  );
  const view = h("div", { id: "login-view", class: "login-view" }, form, demo);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = byId<HTMLButtonElement>("login-submit");
    const err = byId("login-error");
    const user = byId<HTMLInputElement>("login-user").value.trim();
    const password = byId<HTMLInputElement>("login-password").value;
    const code = byId<HTMLInputElement>("login-code").value.trim();
    err.textContent = "";
    submit.disabled = true;
    try {
      const s = await api.login(user, password, code === "" ? null : code);
      byId<HTMLInputElement>("login-password").value = "";
      byId<HTMLInputElement>("login-code").value = "";
      onLogin(s);
    } catch (e) {
      err.textContent = asApiError(e).message;
    } finally {
      submit.disabled = false;
    }
  });
  return view;
}

/**
 * List the demo users; a click fills the form. An admin needs a second-factor code that changes
 * every 30 lot seconds (a few real ones on the demo's clock): the demo logs an admin in itself.
 */
export function showDemoUsers(users: DemoUser[], onLogin?: (s: SessionView) => void): void {
  const list = document.getElementById("demo-user-list");
  const section = document.getElementById("demo-users");
  if (!list || !section) return;
  list.replaceChildren(
    ...users.map((u) => {
      const b = button(null, `${u.user} (${u.role})`, {
        class: "demo-user",
        "data-user": u.user,
        title: `password: ${u.password}`,
      });
      b.append(h("span", { class: "muted" }, ` password ${u.password}`));
      b.addEventListener("click", () => {
        if (u.role === "admin" && onLogin) {
          byId("login-error").textContent = "";
          api.demoLogin(u.user).then(onLogin, (e) => {
            byId("login-error").textContent = asApiError(e).message;
          });
          return;
        }
        byId<HTMLInputElement>("login-user").value = u.user;
        byId<HTMLInputElement>("login-password").value = u.password;
        byId<HTMLInputElement>("login-code").value = "";
        byId<HTMLButtonElement>("login-submit").focus();
      });
      return h("li", {}, b);
    }),
  );
  section.hidden = users.length === 0;
}
