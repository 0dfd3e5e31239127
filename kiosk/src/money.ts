// Money as the driver reads it: the lane sends the amount as decimal text and an ISO currency.
import type { Lang } from "./i18n";

const LOCALES: Record<Lang, string> = { en: "en-GB", de: "de-DE", es: "es-ES" };

/** "12.00" EUR → "€12.00" (en), "12,00 €" (de, es); text it cannot read → "EUR 12.00". */
export function formatMoney(amount: string, currency: string, lang: Lang): string {
  const text = amount.trim();
  const plain = `${currency} ${text}`.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text) || !/^[A-Z]{3}$/.test(currency)) return plain;
  try {
    return new Intl.NumberFormat(LOCALES[lang], {
      style: "currency",
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: Math.max(2, text.split(".")[1]?.length ?? 0),
    }).format(Number(text));
  } catch {
    return plain;
  }
}
