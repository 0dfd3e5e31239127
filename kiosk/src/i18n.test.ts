import { describe, expect, it } from "vitest";
import en from "../messages/en.json";
import de from "../messages/de.json";
import es from "../messages/es.json";
import { LANGS, TABLES, fill, pickLang, placeholders, t, translator, type Table } from "./i18n";

/** What is wrong with a language's table against English: missing, extra, placeholder drift. */
function problems(english: Table, other: Table): string[] {
  const out: string[] = [];
  for (const [key, text] of Object.entries(english)) {
    if (!(key in other)) out.push(`missing ${key}`);
    else if (placeholders(other[key]).join() !== placeholders(text).join())
      out.push(`placeholders of ${key}: ${placeholders(other[key])} vs ${placeholders(text)}`);
    else if (other[key].trim() === "") out.push(`empty ${key}`);
  }
  for (const key of Object.keys(other)) if (!(key in english)) out.push(`extra ${key}`);
  return out;
}

describe("message tables", () => {
  it("German and Spanish have every English key, with the same placeholders", () => {
    expect(problems(en, de)).toEqual([]);
    expect(problems(en, es)).toEqual([]);
  });

  it("the check catches a missing German key and a changed placeholder", () => {
    const broken: Table = { ...de };
    delete broken["pay.card"];
    broken["proceed.heading"] = "Willkommen, {kennzeichen}";
    expect(problems(en, broken).sort()).toEqual([
      "missing pay.card",
      "placeholders of proceed.heading: kennzeichen vs plate",
    ]);
  });

  it("are actually translated, not copies of English", () => {
    for (const lang of ["de", "es"] as const) {
      const same = Object.keys(en).filter(
        (k) => TABLES[lang][k] === (en as Table)[k] && !k.startsWith("lang.") && k !== "pin.label",
      );
      expect(same, lang).toEqual([]);
    }
  });
});

describe("t", () => {
  it("fills placeholders in the chosen language", () => {
    expect(t("en", "proceed.heading", { plate: "AB 123" })).toBe("Welcome, AB 123");
    expect(t("de", "proceed.heading", { plate: "AB 123" })).toBe("Willkommen, AB 123");
    expect(t("es", "declined.countdown", { seconds: 7 })).toBe(
      "Quedan 7 segundos para volver a pagar",
    );
  });

  it("falls back to English, then to the key", () => {
    const tr = translator({ en: { "full.big": "FULL" }, de: {} });
    expect(tr("de", "full.big")).toBe("FULL");
    expect(tr("de", "pay.card")).toBe("pay.card");
  });

  it("leaves an unknown placeholder as written", () => {
    expect(fill("{a} and {b}", { a: 1 })).toBe("1 and {b}");
    expect(placeholders("{b} {a} {b}")).toEqual(["a", "b"]);
  });

  it("picks the language from the query, then the browser, else English", () => {
    expect(pickLang("es", ["de-DE"])).toBe("es");
    expect(pickLang("fr", ["fr-FR", "de-AT"])).toBe("de");
    expect(pickLang(null, ["it"])).toBe("en");
    expect(LANGS).toEqual(["en", "de", "es"]);
  });
});
