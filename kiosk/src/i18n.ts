// The kiosk's words: every user-visible string comes from messages/{en,de,es}.json (flat keys,
// `{name}` placeholders). A key missing in a language falls back to English.
import en from "../messages/en.json";
import de from "../messages/de.json";
import es from "../messages/es.json";

export type Lang = "en" | "de" | "es";
export const LANGS: readonly Lang[] = ["en", "de", "es"];
export type MessageKey = keyof typeof en;
export type Params = Record<string, string | number>;
export type Table = Record<string, string>;

export const TABLES: Record<Lang, Table> = { en, de, es };

export function isLang(x: unknown): x is Lang {
  return typeof x === "string" && (LANGS as readonly string[]).includes(x);
}

/** Fills `{name}` placeholders; an unknown one stays as written. */
export function fill(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The placeholder names a message uses, sorted, each once. */
export function placeholders(template: string): string[] {
  const names = new Set<string>();
  for (const m of template.matchAll(/\{(\w+)\}/g)) names.add(m[1]);
  return [...names].sort();
}

/** A translator over the given tables, falling back to English, then to the key itself. */
export function translator(tables: Partial<Record<Lang, Table>>) {
  return (lang: Lang, key: MessageKey, params?: Params): string => {
    const text = tables[lang]?.[key] ?? tables.en?.[key] ?? key;
    return fill(text, params);
  };
}

export const t = translator(TABLES);

/** The language to start in: `?lang=` if given, else the browser's first one we have, else English. */
export function pickLang(query: string | null, preferred: readonly string[] = []): Lang {
  if (isLang(query)) return query;
  for (const p of preferred) {
    const base = p.toLowerCase().split("-")[0];
    if (isLang(base)) return base;
  }
  return "en";
}
