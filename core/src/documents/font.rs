//! The two embedded fonts: glyph lookup, advance widths and the metrics the PDF needs.

use ttf_parser::{Face, GlyphId};

use super::DocumentError;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Which of the two fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Style {
    Regular,
    Bold,
}

impl Style {
    /// Both, in the order they are written to the PDF.
    pub(super) const ALL: [Style; 2] = [Style::Regular, Style::Bold];

    pub(super) fn index(self) -> usize {
        match self {
            Style::Regular => 0,
            Style::Bold => 1,
        }
    }
}

/// One parsed font.
pub(super) struct Font {
    /// The PostScript name (without a subset tag).
    pub(super) name: &'static str,
    pub(super) data: &'static [u8],
    pub(super) face: Face<'static>,
    units_per_em: f32,
}

/// A character as drawn: its glyph and advance in points at the size it was measured at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Glyph {
    /// The character it stands for (what text extraction should give back).
    pub(super) ch: char,
    /// The glyph in the original font (0, `.notdef`, when the font has none for `ch`).
    pub(super) gid: u16,
    /// The advance width in points.
    pub(super) advance: f32,
}

impl Font {
    fn parse(name: &'static str, data: &'static [u8]) -> Result<Font, DocumentError> {
        let face = Face::parse(data, 0).map_err(|e| DocumentError::Font {
            font: name,
            reason: e.to_string(),
        })?;
        let units_per_em = f32::from(face.units_per_em().max(1));
        Ok(Font {
            name,
            data,
            face,
            units_per_em,
        })
    }

    /// Points per font unit at `size`.
    pub(super) fn scale(&self, size: f32) -> f32 {
        size / self.units_per_em
    }

    /// Font units to the PDF's glyph space (thousandths of the size).
    pub(super) fn to_pdf_units(&self, units: f32) -> f32 {
        units * 1000.0 / self.units_per_em
    }

    /// The advance of glyph `gid` in font units.
    pub(super) fn advance_units(&self, gid: u16) -> f32 {
        f32::from(self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0))
    }

    /// How `ch` is drawn at `size`, or `None` when it is not drawn at all (a control or an
    /// invisible format character the font lacks). A tab is drawn as a space.
    pub(super) fn glyph(&self, ch: char, size: f32) -> Option<Glyph> {
        let ch = if ch == '\t' { ' ' } else { ch };
        let gid = match self.face.glyph_index(ch) {
            Some(g) => g.0,
            None if ch.is_control() || is_default_ignorable(ch) => return None,
            None => 0,
        };
        Some(Glyph {
            ch,
            gid,
            advance: self.advance_units(gid) * self.scale(size),
        })
    }
}

/// Invisible format characters: drawn as nothing when the font has no glyph for them.
fn is_default_ignorable(ch: char) -> bool {
    matches!(ch,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Both fonts.
pub(super) struct Fonts {
    fonts: [Font; 2],
}

impl Fonts {
    pub(super) fn load() -> Result<Fonts, DocumentError> {
        Ok(Fonts {
            fonts: [
                Font::parse("DejaVuSans", REGULAR)?,
                Font::parse("DejaVuSans-Bold", BOLD)?,
            ],
        })
    }

    pub(super) fn get(&self, style: Style) -> &Font {
        &self.fonts[style.index()]
    }
}
