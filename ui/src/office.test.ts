// The office tab against a mocked app: vouchers and their QR, a refused permit, revoking needs a
// reason, the staff list refused to a non-admin, and the rest of the forms.
import axe from "axe-core";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountRow, PermitRow, ReservationRow, VoucherRow } from "../../ts/api";

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29"><path d="M0 0h7v7H0z"/></svg>';

const m = vi.hoisted(() => {
  const permit = (id: number, revoked = false) => ({
    id,
    kind: "monthly" as const,
    holder: `Holder ${id}`,
    plates: `AB${id}`,
    card: null,
    valid: "2025-03-01 09:30 to 2025-03-31 09:30",
    levels: "",
    hours: null,
    max_inside: 1,
    inside: 0,
    revoked,
  });
  const api = {
    reservations: vi.fn(async (): Promise<ReservationRow[]> => [
      {
        code: "R-7Q2",
        status: "booked",
        plate: "KLM4821",
        class: "standard",
        ev: true,
        accessible: false,
        spot: null,
        window: "2025-03-02 09:00 to 17:00",
        estimate: "12",
        fee: "0",
        currency: "EUR",
      },
      {
        code: "R-OLD",
        status: "cancelled",
        plate: null,
        class: "compact",
        ev: false,
        accessible: false,
        spot: null,
        window: "2025-03-01 08:00 to 09:00",
        estimate: "2",
        fee: "1.5",
        currency: "EUR",
      },
    ]),
    reserve: vi.fn(async (form: { plate: string }) => ({
      code: "R-NEW",
      status: "booked",
      plate: form.plate,
      class: "standard",
      ev: false,
      accessible: false,
      spot: null,
      window: "2025-03-01 09:00 to 17:00",
      estimate: "16",
      fee: "0",
      currency: "EUR",
    })),
    cancelReservation: vi.fn(async (code: string) => `reservation ${code} is cancelled`),
    permits: vi.fn(async (): Promise<PermitRow[]> => [permit(1), permit(2, true)]),
    issuePermit: vi.fn(async (): Promise<string> => "permit 3 issued"),
    revokePermit: vi.fn(async (id: number) => `permit ${id} is revoked`),
    accounts: vi.fn(async (): Promise<AccountRow[]> => []),
    openAccount: vi.fn(),
    topUp: vi.fn(),
    vouchers: vi.fn(async (): Promise<VoucherRow[]> => []),
    issueVoucher: vi.fn(),
    users: vi.fn(async (): Promise<unknown> => {
      throw { kind: "forbidden", message: "ann may not see the staff list; an admin manages users" };
    }),
    addUser: vi.fn(),
    setUserEnabled: vi.fn(async (name: string, enabled: boolean) => `${name} is ${enabled ? "enabled" : "disabled"}`),
  };
  return { api };
});

vi.mock("../../ts/api", () => ({
  api: m.api,
  asApiError: (e: unknown) => e as { kind: string; message: string },
}));

import { loadOffice, officeView, resetOffice } from "./office";
import { state } from "./state";

const api = m.api;
const tick = () => new Promise((r) => setTimeout(r, 20));
const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector<T>(sel)!;
const type = (sel: string, text: string) => {
  $<HTMLInputElement>(sel).value = text;
};
const bodyRows = (sel: string) => Array.from(document.querySelectorAll<HTMLTableRowElement>(`${sel} tbody tr`));

function voucher(id: number, used_on: string | null = null): VoucherRow {
  return {
    id,
    merchant: "Café Rosa",
    gives: "100% off",
    valid_to_local: "2025-03-31 09:30",
    used_on,
    qr: `GH1.voucher.${id}.signed-payload-long-enough`,
    qr_svg: SVG.replace("<path", `<path data-voucher="${id}"`),
  };
}

function account(id: number, balance = "0"): AccountRow {
  return {
    id,
    holder: "Acme Ltd",
    balance,
    currency: "EUR",
    expires_local: null,
    warnings: balance === "0" ? ["balance is zero"] : [],
    card: `GH1.account.${id}.signed-card-code`,
    card_svg: SVG,
  };
}

beforeAll(() => {
  document.body.innerHTML = '<div id="app"></div><div id="toast" role="status" aria-live="polite"></div>';
  $("#app").append(officeView());
});

beforeEach(async () => {
  vi.clearAllMocks();
  $("#toast").textContent = "";
  $("#toast").classList.remove("error");
  resetOffice();
  await loadOffice();
});

describe("office: the lists", () => {
  it("fills every list when loaded and starts the reservation day today", () => {
    expect(api.reservations).toHaveBeenCalledWith(7);
    expect(bodyRows("#res-table")).toHaveLength(2);
    expect($("#res-table").textContent).toContain("R-7Q2");
    expect($("#res-table").textContent).toContain("12.00 EUR");
    expect($("#res-table").textContent).toContain("standard (EV)");
    // Only a booked reservation can be cancelled.
    expect($('[data-cancel-res="R-7Q2"]')).toBeTruthy();
    expect($('[data-cancel-res="R-OLD"]')).toBeNull();
    // Only an active permit can be revoked.
    expect($('[data-revoke-permit="1"]')).toBeTruthy();
    expect($('[data-revoke-permit="2"]')).toBeNull();
    expect($('#permit-table tr[data-permit="2"]').textContent).toContain("yes");
    expect($("#account-table").textContent).toContain("No prepaid accounts yet.");
    expect($<HTMLInputElement>("#res-day").value).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect($<HTMLInputElement>("#res-from").value).toBe("09:00");
    expect($<HTMLInputElement>("#res-to").value).toBe("17:00");
    expect($<HTMLInputElement>("#permit-days").value).toBe("30");
    expect($<HTMLInputElement>("#permit-max").value).toBe("1");
    expect($<HTMLInputElement>("#account-days").value).toBe("365");
    expect($<HTMLInputElement>("#voucher-value").value).toBe("60");
    expect($<HTMLInputElement>("#voucher-days").value).toBe("30");
    expect($<HTMLInputElement>("#permit-hours").placeholder).toBe("07:00-19:00, empty = any time");
    expect($<HTMLInputElement>("#user-password").type).toBe("password");
  });

  it("labels every input and select", () => {
    const controls = document.querySelectorAll<HTMLElement>("#app input, #app select");
    expect(controls.length).toBeGreaterThan(20);
    for (const c of controls) expect(document.querySelector(`label[for="${c.id}"]`), c.id).toBeTruthy();
  });

  it("has no serious or critical accessibility violations, with rows and figures shown", async () => {
    api.accounts.mockResolvedValueOnce([account(3)]);
    api.vouchers.mockResolvedValueOnce([voucher(4)]);
    await loadOffice();
    $<HTMLButtonElement>('[data-show-card="3"]').click();
    $<HTMLButtonElement>('[data-show-voucher="4"]').click();
    // jsdom has no layout, so colour contrast is left to the CSS choices.
    const r = await axe.run($("#app"), { rules: { "color-contrast": { enabled: false } } });
    expect(r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length}`)).toEqual([]);
  });

  it("the staff list of a non-admin is the refusal, in place of the table and not in the toast", () => {
    expect(api.users).toHaveBeenCalledTimes(1);
    expect($("#users-refused").hidden).toBe(false);
    expect($("#users-refused").textContent).toBe("ann may not see the staff list; an admin manages users");
    expect($("#users-refused").classList.contains("muted")).toBe(true);
    expect($("#user-table-wrap").hidden).toBe(true);
    expect($("#toast").textContent).toBe("");
  });
});

describe("office: changes", () => {
  it("issuing a voucher shows its QR and code, and lists it", async () => {
    api.issueVoucher.mockResolvedValueOnce(voucher(9));
    api.vouchers.mockResolvedValueOnce([voucher(9)]);
    type("#voucher-merchant", "Café Rosa");
    type("#voucher-value", "100");
    $<HTMLSelectElement>("#voucher-kind").value = "percent";
    expect($("#voucher-figure").hidden).toBe(true);
    $<HTMLButtonElement>("#voucher-submit").click();
    await tick();
    expect(api.issueVoucher).toHaveBeenCalledWith("Café Rosa", 100, true, 30);
    expect($("#voucher-figure").hidden).toBe(false);
    expect($("#voucher-figure svg")).toBeTruthy();
    expect($("#voucher-code").textContent).toBe("GH1.voucher.9.signed-payload-long-enough");
    expect($("#voucher-figure").textContent).toContain("Print voucher");
    expect($("#toast").textContent).toContain("Voucher 9");
    expect(api.vouchers).toHaveBeenCalledTimes(2);
    expect($('[data-show-voucher="9"]')).toBeTruthy();
  });

  it("the QR button shows that voucher's figure", async () => {
    api.vouchers.mockResolvedValueOnce([voucher(4), voucher(5, "T-77")]);
    await loadOffice();
    expect($('#voucher-table tr[data-voucher="5"]').textContent).toContain("T-77");
    $<HTMLButtonElement>('[data-show-voucher="5"]').click();
    expect($("#voucher-figure").hidden).toBe(false);
    expect($("#voucher-code").textContent).toBe(voucher(5).qr);
    expect($('#voucher-figure [data-voucher="5"]')).toBeTruthy();
  });

  it("a bad voucher value is caught before the app is asked", async () => {
    type("#voucher-merchant", "Café Rosa");
    type("#voucher-value", "2.5");
    $<HTMLButtonElement>("#voucher-submit").click();
    await tick();
    expect(api.issueVoucher).not.toHaveBeenCalled();
    expect($("#toast").classList.contains("error")).toBe(true);
    type("#voucher-value", "60");
  });

  it("a refused permit shows the engine's message and leaves the table as it was", async () => {
    const before = $("#permit-table").innerHTML;
    api.issuePermit.mockRejectedValueOnce({
      kind: "forbidden",
      message: "ann may not issue permits; ask a supervisor",
    });
    type("#permit-holder", "Dr. Okafor");
    type("#permit-plates", "PRM 4411");
    $<HTMLButtonElement>("#permit-submit").click();
    await tick();
    expect(api.issuePermit).toHaveBeenCalledWith({
      kind: "monthly",
      holder: "Dr. Okafor",
      plates: "PRM 4411",
      card: "",
      days: 30,
      levels: "",
      hours: "",
      max_inside: 1,
    });
    expect($("#toast").textContent).toBe("ann may not issue permits; ask a supervisor");
    expect($("#toast").classList.contains("error")).toBe(true);
    expect($("#permit-table").innerHTML).toBe(before);
    expect(api.permits).toHaveBeenCalledTimes(1);
    // What was typed stays, to try again.
    expect($<HTMLInputElement>("#permit-plates").value).toBe("PRM 4411");
  });

  it("an issued permit reloads the list", async () => {
    type("#permit-holder", "Dr. Okafor");
    type("#permit-plates", "PRM 4411");
    $<HTMLButtonElement>("#permit-submit").click();
    await tick();
    expect($("#toast").textContent).toBe("permit 3 issued");
    expect(api.permits).toHaveBeenCalledTimes(2);
    expect($<HTMLInputElement>("#permit-plates").value).toBe("");
  });

  it("revoking without a reason does not call the app; with one it does", async () => {
    type("#permit-revoke-reason", "  ");
    $<HTMLButtonElement>('[data-revoke-permit="1"]').click();
    await tick();
    expect(api.revokePermit).not.toHaveBeenCalled();
    expect($("#toast").textContent).toMatch(/reason is required/);
    expect($("#toast").classList.contains("error")).toBe(true);
    expect(document.activeElement?.id).toBe("permit-revoke-reason");

    type("#permit-revoke-reason", "car sold");
    $<HTMLButtonElement>('[data-revoke-permit="1"]').click();
    await tick();
    expect(api.revokePermit).toHaveBeenCalledWith(1, "car sold");
    expect(api.permits).toHaveBeenCalledTimes(2);
  });

  it("reserves with the form's values and cancels a booked reservation", async () => {
    state.overview = { now_local: "2025-03-01 09:30" } as typeof state.overview;
    $<HTMLInputElement>("#res-day").value = "";
    await loadOffice();
    expect($<HTMLInputElement>("#res-day").value).toBe("2025-03-01");
    type("#res-plate", "KLM 4821");
    $<HTMLInputElement>("#res-ev").checked = true;
    type("#res-holder", "Ms. Berg");
    $<HTMLButtonElement>("#res-submit").click();
    await tick();
    expect(api.reserve).toHaveBeenCalledWith({
      plate: "KLM 4821",
      class: "standard",
      ev: true,
      accessible: false,
      day: "2025-03-01",
      from: "09:00",
      to: "17:00",
      holder: "Ms. Berg",
    });
    expect($("#toast").textContent).toContain("R-NEW");
    $<HTMLButtonElement>('[data-cancel-res="R-7Q2"]').click();
    await tick();
    expect(api.cancelReservation).toHaveBeenCalledWith("R-7Q2");
    expect($("#toast").textContent).toBe("reservation R-7Q2 is cancelled");
    state.overview = null;
  });

  it("opens an account, tops it up by card and shows its card", async () => {
    api.openAccount.mockResolvedValueOnce(account(3));
    api.accounts.mockResolvedValue([account(3)]);
    type("#account-holder", "Acme Ltd");
    $<HTMLButtonElement>("#account-open").click();
    await tick();
    expect(api.openAccount).toHaveBeenCalledWith("Acme Ltd", 365);
    expect($('[data-topup-amount="3"]')).toBeTruthy();
    expect($("#account-table").textContent).toContain("balance is zero");

    api.topUp.mockResolvedValueOnce(account(3, "20"));
    api.accounts.mockResolvedValue([account(3, "20"), account(4)]);
    const showBtn = $('[data-show-card="3"]');
    type('[data-topup-amount="3"]', "20");
    $<HTMLButtonElement>('[data-topup-card="3"]').click();
    await tick();
    expect(api.topUp).toHaveBeenCalledWith(3, "card", "20");
    expect($("#account-table").textContent).toContain("20.00 EUR");
    expect($<HTMLInputElement>('[data-topup-amount="3"]').value).toBe("");
    // The reload changed the balance in place: the row's buttons are the same elements.
    expect($('[data-show-card="3"]')).toBe(showBtn);
    expect(bodyRows("#account-table").map((r) => r.dataset.account)).toEqual(["3", "4"]);
    // An amount being typed in a row survives a reload.
    type('[data-topup-amount="4"]', "5");
    await loadOffice();
    expect($<HTMLInputElement>('[data-topup-amount="4"]').value).toBe("5");
    expect($("#toast").textContent).toContain("20.00 EUR");

    resetOffice();
    await loadOffice();
    expect($("#card-figure").hidden).toBe(true);
    $<HTMLButtonElement>('[data-show-card="3"]').click();
    expect($("#card-figure").hidden).toBe(false);
    expect($("#card-figure svg")?.getAttribute("role")).toBe("img");
    expect($("#card-code").textContent).toBe("GH1.account.3.signed-card-code");
    const print = vi.spyOn(window, "print").mockImplementation(() => {});
    $<HTMLButtonElement>("#card-print").click();
    expect(print).toHaveBeenCalledTimes(1);
    expect(document.body.dataset.print).toBe("card-figure");
    window.dispatchEvent(new Event("afterprint"));
    expect(document.body.dataset.print).toBeUndefined();
    api.accounts.mockResolvedValue([]);
  });

  it("an admin sees the staff, a new admin's secret once, and can disable a user", async () => {
    api.users.mockResolvedValue([
      { name: "ann", role: "attendant", second_factor: false, disabled: false, locked_until: null },
      { name: "old", role: "cashier", second_factor: false, disabled: true, locked_until: "2025-03-01 10:00" },
    ]);
    await loadOffice();
    expect($("#users-refused").hidden).toBe(true);
    expect($("#user-table-wrap").hidden).toBe(false);
    expect($('[data-user-disable="ann"]')).toBeTruthy();
    expect($('[data-user-enable="old"]')).toBeTruthy();
    $<HTMLButtonElement>('[data-user-disable="ann"]').click();
    await tick();
    expect(api.setUserEnabled).toHaveBeenCalledWith("ann", false);

    api.addUser.mockResolvedValueOnce({ name: "root2", role: "admin", totp_secret: "JBSWY3DPEHPK3PXP" });
    type("#user-name", "root2");
    $<HTMLSelectElement>("#user-role").value = "admin";
    type("#user-password", "a long enough password");
    $<HTMLButtonElement>("#user-add").click();
    await tick();
    expect(api.addUser).toHaveBeenCalledWith("root2", "admin", "a long enough password");
    expect($("#user-totp").hidden).toBe(false);
    expect($("#user-totp").textContent).toContain("JBSWY3DPEHPK3PXP");
    expect($("#user-totp").textContent).toMatch(/authenticator app now/);
    expect($<HTMLInputElement>("#user-password").value).toBe("");
    // Gone on logout.
    resetOffice();
    expect($("#user-totp").hidden).toBe(true);
    expect($("#user-totp").textContent).toBe("");
    api.users.mockReset();
  });
});
