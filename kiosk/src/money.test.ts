import { describe, expect, it } from "vitest";
import { formatMoney } from "./money";

const plain = (s: string) => s.replace(/\s/g, " ");

describe("formatMoney", () => {
  it("formats per language", () => {
    expect(plain(formatMoney("12.00", "EUR", "en"))).toBe("€12.00");
    expect(plain(formatMoney("12.5", "EUR", "de"))).toBe("12,50 €");
    expect(plain(formatMoney("1234.50", "EUR", "es"))).toMatch(/^1\.?234,50 €$/);
    expect(plain(formatMoney("3.00", "GBP", "en"))).toBe("£3.00");
  });

  it("shows what it cannot read as currency and amount", () => {
    expect(formatMoney("twelve", "EUR", "en")).toBe("EUR twelve");
    expect(formatMoney("12.00", "points", "de")).toBe("points 12.00");
  });
});
