//! Printable documents: a small, layout-independent document model and its PDF renderer.
//!
//! Core's services build a [`Document`] from records (a certificate of sanitization, a donor
//! report, a shipment's packing list) and [`render_pdf`] lays it out on A4 pages:
//!
//! - a header on the first page: the [`organisation`](Document::organisation), the
//!   [`title`](Document::title), the [`subtitle`](Document::subtitle) and the
//!   [`meta`](Document::meta) label/value pairs (certificate number, date of issue, …);
//! - the [`blocks`](Document::blocks) in order: headings, paragraphs, label/value lists,
//!   tables and QR codes ([`Block`]);
//! - a footer on every page: the [`footer`](Document::footer) text and "Page N of M".
//!
//! Text wraps at spaces, measured with the font's own advance widths; a word wider than its
//! line (a long serial number, a 5,000-character string with no spaces) is broken between
//! characters. A `'\n'` in a paragraph or a cell starts a new line. Long paragraphs, lists and
//! tables continue on the next page; a table repeats its header row on every page it spans,
//! and a row taller than a page is split between pages.
//!
//! # Font
//! All text is set in DejaVu Sans and DejaVu Sans Bold (Bitstream Vera licence, DejaVu changes
//! in the public domain; `core/assets/fonts/LICENSE-DejaVu.txt`), compiled into the crate and
//! embedded in each PDF as a subset holding only the glyphs the document uses (a one-page
//! certificate is about 30 KB). Each glyph carries its Unicode text (a `ToUnicode` map), so
//! copying or extracting text (`pdftotext`) gives back what was put in: Latin with any
//! accents, Greek, Cyrillic and punctuation, `<`, `&` and quotes included.
//!
//! # Determinism
//! The same [`Document`] always renders to the same bytes: there is no clock, no random
//! document id and no hash-map order in the output. The creation date is written only when
//! [`Document::created`] is set. A certificate's SHA-256 can therefore be stored when it is
//! issued and checked against a later rendering of the same records.
//!
//! # Not supported
//! - Characters the font has no glyph for (Chinese, Japanese, Korean, many emoji, …) are drawn
//!   as the font's empty box (`.notdef`); they are not an error, and they are still extracted
//!   as the original characters (the box carries them as `ActualText`). Invisible format
//!   characters the font lacks (zero-width joiner, variation selectors, byte-order mark) and
//!   control characters other than `'\n'` and `'\t'` (a space) are dropped.
//! - There is no text shaping: no kerning, no ligatures, no right-to-left scripts (Arabic and
//!   Hebrew come out in the wrong order) and no complex scripts (Devanagari, Thai, …).
//!   Combining accents are drawn as the font places them.
//! - No images other than QR codes, no links, no bold or italic inside a paragraph, no
//!   hyphenation, no PDF/A or tagged PDF.
//!
//! ```
//! use rehome_core::documents::{render_pdf, Align, Block, Column, Document, Table};
//!
//! let doc = Document {
//!     organisation: "Laptops for Schools".into(),
//!     title: "Packing list".into(),
//!     meta: vec![("Shipment".into(), "S-0042".into())],
//!     blocks: vec![Block::Table(Table {
//!         columns: vec![Column::new("Serial number", 2), Column::new("Model", 3)],
//!         rows: vec![vec!["PF2ABCDE".into(), "ThinkPad T480".into()]],
//!     })],
//!     ..Document::default()
//! };
//! let pdf = render_pdf(&doc)?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok::<(), rehome_core::documents::DocumentError>(())
//! ```

pub mod certificate;
mod font;
mod layout;
mod pdf;
pub mod reports;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

/// A document to render: a certificate, a report or a list.
///
/// Every string may hold any Unicode text; empty strings are simply not drawn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// The issuing organisation, in small type above the title; also the PDF's author.
    pub organisation: String,
    /// The title, large and bold on the first page; also the PDF's title.
    pub title: String,
    /// A line under the title (e.g. "for all devices donated by Zoë Łukasiewicz").
    pub subtitle: String,
    /// Label/value pairs under the title (certificate number, date of issue, donor, …).
    pub meta: Vec<(String, String)>,
    /// The body, top to bottom.
    pub blocks: Vec<Block>,
    /// Small text at the foot of every page, left of "Page N of M" (at most two lines; a
    /// longer one is cut short with "…").
    pub footer: String,
    /// The creation date written into the PDF's metadata; none when `None`. It is never
    /// taken from the clock, so that rendering stays deterministic.
    pub created: Option<DateTime<Utc>>,
}

/// One part of a document's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section heading in bold; kept on the same page as the start of what follows.
    Heading(String),
    /// Running text, wrapped to the page's width; `'\n'` starts a new line.
    Paragraph(String),
    /// A two-column list: bold labels on the left, values (wrapped) on the right.
    KeyValues(Vec<(String, String)>),
    /// A table with a header row.
    Table(Table),
    /// A QR code of `text` (error correction level M), with `caption` beside it.
    Qr {
        /// What the code encodes, e.g. a verification address.
        text: String,
        /// Text shown beside the code (may be empty).
        caption: String,
    },
}

/// A table: a header row of column titles, then the rows.
///
/// A row with fewer cells than there are columns leaves the rest empty; cells beyond the last
/// column are ignored, and a table without columns draws nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// The rows, top to bottom, each a list of cells.
    pub rows: Vec<Vec<String>>,
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header text (bold, repeated on every page the table spans).
    pub title: String,
    /// The column's share of the table's width: columns of shares 1, 1 and 2 get a quarter,
    /// a quarter and half. When every share is 0 the columns are equally wide.
    pub width: u32,
    /// How the column's cells (and its title) are aligned.
    pub align: Align,
}

impl Column {
    /// A left-aligned column.
    pub fn new(title: impl Into<String>, width: u32) -> Column {
        Column {
            title: title.into(),
            width,
            align: Align::Left,
        }
    }

    /// This column, aligned as given (e.g. [`Align::Right`] for counts and amounts).
    pub fn aligned(mut self, align: Align) -> Column {
        self.align = align;
        self
    }
}

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Align {
    /// Against the left edge.
    #[default]
    Left,
    /// Centred.
    Center,
    /// Against the right edge (numbers).
    Right,
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The text of a [`Block::Qr`] does not fit in a QR code (at most 2,331 bytes at error
    /// correction level M).
    #[error("the text of a QR code is too long for a QR code ({len} bytes)")]
    QrTooLong {
        /// The text's length in bytes.
        len: usize,
    },
    /// A font compiled into the crate could not be read or subset (a build problem, not the
    /// document's fault).
    #[error("the embedded font {font} could not be used: {reason}")]
    Font {
        /// The font's name.
        font: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Renders `doc` as a PDF file (A4, fonts embedded): the same document always gives the same
/// bytes.
///
/// Any text is accepted (see the [module documentation](self) for what is drawn as a box); the
/// only errors are a QR code whose text is too long and a broken embedded font.
pub fn render_pdf(doc: &Document) -> Result<Vec<u8>, DocumentError> {
    let fonts = font::Fonts::load()?;
    let pages = layout::lay_out(doc, &fonts)?;
    pdf::write(doc, &fonts, &pages)
}
