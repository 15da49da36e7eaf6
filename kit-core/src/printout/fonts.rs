//! The printout's two faces (Noto Sans Regular and Bold, vendored in `fonts/` with their
//! licence) and the text measuring that line breaking needs. Text is measured with
//! rustybuzz, the shaper krilla draws with, so a line that fits when measured fits when
//! drawn — including kerning and combining marks placed on their base letter.

const REGULAR: &[u8] = include_bytes!("fonts/NotoSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("fonts/NotoSans-Bold.ttf");

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// One face: what krilla embeds and what rustybuzz measures.
pub(crate) struct Face {
    pub(crate) pdf: krilla::text::Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Self> {
        let shaper = rustybuzz::Face::from_slice(bytes, 0)?;
        let units_per_em = shaper.units_per_em() as f32;
        let pdf = krilla::text::Font::new(krilla::Data::from(bytes), 0)?;
        Some(Self {
            pdf,
            shaper,
            units_per_em,
        })
    }

    /// The advance of `text` set in one line at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let shaped = self.shape(text);
        let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
        units as f32 * size / self.units_per_em
    }

    fn shape(&self, text: &str) -> rustybuzz::GlyphBuffer {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        rustybuzz::shape(&self.shaper, &[], buffer)
    }

    /// Whether the face has a glyph for `c`.
    #[cfg(test)]
    fn covers(&self, c: char) -> bool {
        self.shaper.glyph_index(c).is_some()
    }

    /// Splits `text` into lines no wider than `width`: at spaces, after hyphens and
    /// slashes, and — for a word longer than a line — between grapheme clusters, so a
    /// base letter never loses its combining marks. Explicit line breaks are kept. Nothing
    /// is dropped: the lines joined again hold every character but the spaces broken at.
    pub(crate) fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for piece in pieces(paragraph) {
                let candidate = format!("{line}{piece}");
                if self.width(candidate.trim_end(), size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.trim_end().is_empty() {
                    lines.push(line.trim_end().to_owned());
                }
                let mut rest = piece.to_owned();
                while self.width(rest.trim_end(), size) > width {
                    let cut = self.fitting_prefix(&rest, size, width);
                    lines.push(rest[..cut].to_owned());
                    rest = rest[cut..].to_owned();
                }
                line = rest;
            }
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    /// The byte length of the longest prefix of `text` that fits `width`, ending at a
    /// cluster boundary; at least one cluster, so wrapping always moves on.
    fn fitting_prefix(&self, text: &str, size: f32, width: f32) -> usize {
        let shaped = self.shape(text);
        let scale = size / self.units_per_em;
        let mut boundaries: Vec<(usize, f32)> = Vec::new();
        let mut advance = 0.0;
        for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
            let cluster = info.cluster as usize;
            if boundaries.last().map(|b| b.0) != Some(cluster) {
                boundaries.push((cluster, advance));
            }
            advance += pos.x_advance as f32 * scale;
        }
        boundaries.push((text.len(), advance));
        // boundaries[i].1 is the width of text[..boundaries[i].0].
        let fitting = boundaries
            .iter()
            .filter(|(at, w)| *at > 0 && *w <= width)
            .map(|(at, _)| *at)
            .max();
        fitting.unwrap_or_else(|| boundaries.get(1).map_or(text.len(), |b| b.0))
    }
}

/// Break opportunities: each piece ends after a space, a hyphen or a slash.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, ' ' | '-' | '/') {
            let end = i + c.len_utf8();
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Both faces.
pub(crate) struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    /// Loads the vendored faces.
    ///
    /// # Errors
    /// Only if the font files compiled in are broken, which the tests rule out.
    pub(crate) fn load() -> Result<Self, super::PrintoutError> {
        let broken = || super::PrintoutError::Writer("the built-in font cannot be read".into());
        Ok(Self {
            regular: Face::load(REGULAR).ok_or_else(broken)?,
            bold: Face::load(BOLD).ok_or_else(broken)?,
        })
    }

    pub(crate) fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load().expect("fonts load")
    }

    /// Every normative DIN 91379 character and every character of a defined sequence,
    /// read from the catalog's table, has a glyph in both faces. Tab, LF and CR (group
    /// bnlnot) are layout, never drawn.
    #[test]
    fn both_faces_cover_every_din_91379_character() {
        let path =
            std::path::Path::new(fieldkit_catalog::CATALOG_DIR).join("din91379/din91379.json");
        let table: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("table")).expect("json");
        let groups = table["groups"].as_object().expect("groups");
        let mut checked = 0;
        for (group, g) in groups {
            for entry in g["entries"].as_array().expect("entries") {
                for hex in entry.as_str().expect("entry").split(' ') {
                    let c =
                        char::from_u32(u32::from_str_radix(hex, 16).expect("hex")).expect("scalar");
                    if matches!(c, '\t' | '\n' | '\r') {
                        continue;
                    }
                    for weight in [Weight::Regular, Weight::Bold] {
                        assert!(
                            fonts().face(weight).covers(c),
                            "{weight:?} lacks U+{:04X} of group {group}",
                            c as u32
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 600, "only {checked} characters checked");
    }

    #[test]
    fn wrapping_keeps_every_character_and_never_splits_a_combining_sequence() {
        let fonts = fonts();
        let face = fonts.face(Weight::Regular);
        let name = "Żółć-Dąbrowska-Þórðardóttir Nguyễn L\u{325}L\u{325}L\u{325}L\u{325}L\u{325}L\u{325}L\u{325}L\u{325}";
        let lines = face.wrap(name, 10.0, 40.0);
        assert!(lines.len() > 3, "{lines:?}");
        for line in &lines {
            assert!(
                face.width(line, 10.0) <= 40.0 || line.chars().count() <= 2,
                "{line:?}"
            );
            assert!(
                !line.starts_with('\u{325}'),
                "a mark lost its base: {lines:?}"
            );
        }
        let joined: String = lines.concat();
        assert_eq!(joined.replace(' ', ""), name.replace(' ', ""));
    }
}
