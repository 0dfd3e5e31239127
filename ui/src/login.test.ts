// The login screen's demo people: a click fills the form, and an admin (whose second-factor code
// changes every few real seconds on the demo's clock) is logged in by the demo itself.
import { describe, expect, it, vi } from "vitest";

const api = {
  login: vi.fn(),
  demoLogin: vi.fn(async (user: string) => ({ user, role: "admin" })),
};

vi.mock("../../ts/api", () => ({
  api,
  asApiError: (e: unknown) => e as { kind: string; message: string },
}));

const { loginView, showDemoUsers } = await import("./login");

describe("demo users", () => {
  it("fill the form for staff, and log an admin in with the demo's second factor", async () => {
    const onLogin = vi.fn();
    document.body.replaceChildren(loginView(onLogin));
    showDemoUsers(
      [
        { user: "ann", role: "attendant", password: "ann at the booth" },
        { user: "ada", role: "admin", password: "ada administers gatehouse" },
      ],
      onLogin,
    );
    document.querySelector<HTMLButtonElement>("[data-user=ann]")!.click();
    expect(document.querySelector<HTMLInputElement>("#login-user")!.value).toBe("ann");
    expect(document.querySelector<HTMLInputElement>("#login-password")!.value).toBe("ann at the booth");
    expect(api.demoLogin).not.toHaveBeenCalled();

    document.querySelector<HTMLButtonElement>("[data-user=ada]")!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(api.demoLogin).toHaveBeenCalledWith("ada");
    expect(onLogin).toHaveBeenCalledWith({ user: "ada", role: "admin" });
  });

  it("show why a demo admin could not log in", async () => {
    api.demoLogin.mockRejectedValueOnce({ kind: "forbidden", message: "the code was not accepted" });
    const onLogin = vi.fn();
    document.body.replaceChildren(loginView(onLogin));
    showDemoUsers([{ user: "ada", role: "admin", password: "x" }], onLogin);
    document.querySelector<HTMLButtonElement>("[data-user=ada]")!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(document.querySelector("#login-error")!.textContent).toBe("the code was not accepted");
    expect(onLogin).not.toHaveBeenCalled();
  });
});
