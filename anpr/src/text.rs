//! Plate text: normalisation (case, spaces, dashes) and optional per-country format patterns.

/// The plate as the lot stores it: letters and digits only, upper case. `"w-at 1"` → `"WAT1"`.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A plate layout as a pattern: `A` a letter, `9` a digit, `?` either; anything else must match
/// itself. Brazil's Mercosur plate is `AAA9A99`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlateFormat {
    pub name: String,
    pub pattern: String,
}

impl PlateFormat {
    pub fn new(name: &str, pattern: &str) -> PlateFormat {
        PlateFormat {
            name: name.to_string(),
            pattern: pattern.to_string(),
        }
    }

    /// Whether a normalised text fits the pattern.
    pub fn fits(&self, text: &str) -> bool {
        text.chars().count() == self.pattern.chars().count()
            && self
                .pattern
                .chars()
                .zip(text.chars())
                .all(|(p, c)| PlateFormat::allows(p, c))
    }

    /// Whether pattern character `p` allows `c`.
    pub fn allows(p: char, c: char) -> bool {
        match p {
            'A' => c.is_alphabetic(),
            '9' => c.is_ascii_digit(),
            '?' => c.is_alphanumeric(),
            other => other == c,
        }
    }
}

/// Built-in formats for a country code (ISO 3166 alpha-2, lower or upper case); empty for a
/// country with free formats (the United States: each state its own, plus vanity plates).
pub fn formats_for(country: &str) -> Vec<PlateFormat> {
    match country.to_ascii_lowercase().as_str() {
        "br" => vec![
            PlateFormat::new("Mercosur", "AAA9A99"),
            PlateFormat::new("Brazil (before 2018)", "AAA9999"),
        ],
        "nl" => vec![
            PlateFormat::new("sidecode 6", "99AAA9"),
            PlateFormat::new("sidecode 7", "9AAA99"),
            PlateFormat::new("sidecode 8", "AA999A"),
            PlateFormat::new("sidecode 9", "A999AA"),
            PlateFormat::new("sidecode 10", "AAA99A"),
            PlateFormat::new("sidecode 11", "A99AAA"),
            PlateFormat::new("sidecode 5", "AA99AA"),
            PlateFormat::new("sidecode 4", "99AA99"),
        ],
        "fr" => vec![PlateFormat::new("SIV", "AA999AA")],
        "it" => vec![PlateFormat::new("1994", "AA999AA")],
        "es" => vec![PlateFormat::new("2000", "9999AAA")],
        _ => Vec::new(),
    }
}

/// Whether `text` fits one of `formats`; with no formats every text of 1 to 10 letters and digits
/// fits.
pub fn fits_any(text: &str, formats: &[PlateFormat]) -> bool {
    if formats.is_empty() {
        let n = text.chars().count();
        (1..=10).contains(&n) && text.chars().all(char::is_alphanumeric)
    } else {
        formats.iter().any(|f| f.fits(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_drops_spaces_dashes_and_case() {
        assert_eq!(normalise("w-at 1"), "WAT1");
        assert_eq!(normalise(" abc·123 "), "ABC123");
        assert_eq!(normalise("M-ÜK 42"), "MÜK42");
        assert_eq!(normalise("---"), "");
    }

    #[test]
    fn mercosur_plates_fit_brazil_and_others_do_not() {
        let br = formats_for("BR");
        assert!(fits_any("ABC1D23", &br));
        assert!(fits_any("ABC1234", &br));
        assert!(!fits_any("AB1D234", &br));
        assert!(!fits_any("ABC1D2", &br));
        assert!(fits_any("ANYTEXT", &formats_for("us")));
        assert!(!fits_any("", &formats_for("us")));
    }
}
