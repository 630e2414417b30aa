//! Lays a [`Document`] out on A4 pages: what to draw where, in points from the page's
//! top-left corner (the PDF writer turns it upside down).

use qrcode::{Color, EcLevel, QrCode};

use super::font::{Fonts, Glyph, Style};
use super::{Align, Block, Document, DocumentError, Table};

/// A4 in points.
pub(super) const PAGE_WIDTH: f32 = 595.276;
/// A4 in points.
pub(super) const PAGE_HEIGHT: f32 = 841.89;
/// 20 mm.
const MARGIN: f32 = 56.693;
const LEFT: f32 = MARGIN;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const CONTENT_WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = MARGIN;
/// The body ends here; the footer is below.
const BOTTOM: f32 = PAGE_HEIGHT - 64.0;
const FOOTER_RULE: f32 = PAGE_HEIGHT - 54.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 42.0;

const BODY: TextStyle = TextStyle::new(Style::Regular, 10.0, 13.5, 0.0);
const HEADING: TextStyle = TextStyle::new(Style::Bold, 13.0, 17.0, 0.0);
const TITLE: TextStyle = TextStyle::new(Style::Bold, 20.0, 25.0, 0.0);
const ORGANISATION: TextStyle = TextStyle::new(Style::Bold, 10.0, 13.0, 0.35);
const SUBTITLE: TextStyle = TextStyle::new(Style::Regular, 12.0, 16.0, 0.25);
const CELL: TextStyle = TextStyle::new(Style::Regular, 9.0, 11.5, 0.0);
const HEADER_CELL: TextStyle = TextStyle::new(Style::Bold, 9.0, 11.5, 0.0);
const CAPTION: TextStyle = TextStyle::new(Style::Regular, 9.0, 12.0, 0.25);
const FOOTER: TextStyle = TextStyle::new(Style::Regular, 8.0, 10.0, 0.35);

/// Space between blocks.
const BLOCK_GAP: f32 = 10.0;
/// A table cell's padding, left and right.
const CELL_PAD_X: f32 = 4.0;
/// A table cell's padding, above and below.
const CELL_PAD_Y: f32 = 3.0;
/// A label/value list's gap between label and value.
const KV_GAP: f32 = 12.0;
/// A label/value pair's padding, above and below.
const KV_PAD_Y: f32 = 1.0;
/// A header cell's lines beyond these are cut (a header must leave room for rows).
const MAX_HEADER_LINES: usize = 4;
/// The footer text's lines beyond these are cut.
const MAX_FOOTER_LINES: usize = 2;
/// A QR code's side in points, unless its modules would then be smaller than
/// [`QR_MIN_MODULE`].
const QR_SIDE: f32 = 120.0;
const QR_MIN_MODULE: f32 = 2.7;

/// Font, size (pt), line height (pt) and grey level (0 black, 1 white) of some text.
#[derive(Debug, Clone, Copy)]
pub(super) struct TextStyle {
    pub(super) font: Style,
    pub(super) size: f32,
    pub(super) line_height: f32,
    pub(super) gray: f32,
}

impl TextStyle {
    const fn new(font: Style, size: f32, line_height: f32, gray: f32) -> TextStyle {
        TextStyle {
            font,
            size,
            line_height,
            gray,
        }
    }

    /// From the top of a line to its baseline.
    fn ascent(&self) -> f32 {
        // DejaVu's ascender is 0.76 em; centre the glyphs in the line's extra space.
        (self.line_height - self.size) / 2.0 + self.size * 0.8
    }
}

/// One thing drawn on a page. Coordinates are points from the page's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    /// A line of text starting at `x` on the baseline `y`.
    Text {
        x: f32,
        y: f32,
        font: Style,
        size: f32,
        gray: f32,
        glyphs: Vec<Glyph>,
    },
    /// A filled rectangle whose top-left corner is (`x`, `y`).
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        gray: f32,
    },
    /// A horizontal line from `x1` to `x2` at `y`.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
        gray: f32,
    },
}

/// What one page draws.
pub(super) type Page = Vec<Op>;

/// A line of measured glyphs and its width.
#[derive(Debug, Clone, Default)]
struct Line {
    glyphs: Vec<Glyph>,
    width: f32,
}

/// Lays the document out: one list of drawing operations per page (at least one page).
pub(super) fn lay_out(doc: &Document, fonts: &Fonts) -> Result<Vec<Page>, DocumentError> {
    let mut l = Layout {
        fonts,
        pages: vec![Vec::new()],
        y: TOP,
    };
    l.header(doc);
    for block in &doc.blocks {
        match block {
            Block::Heading(text) => l.heading(text),
            Block::Paragraph(text) => l.paragraph(text),
            Block::KeyValues(pairs) => l.key_values(pairs, BODY),
            Block::Table(table) => l.table(table),
            Block::Qr { text, caption } => l.qr(text, caption)?,
        }
    }
    l.footers(&doc.footer);
    Ok(l.pages)
}

/// Splits `text` into lines no wider than `width` at `style`.
///
/// Breaks at spaces; a word wider than `width` is broken between characters (at least one
/// character a line, so that even a width smaller than any glyph makes progress). `'\n'`
/// (and `"\r\n"`) force a break; an empty text is one empty line.
fn wrap(fonts: &Fonts, text: &str, style: TextStyle, width: f32) -> Vec<Line> {
    let font = fonts.get(style.font);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let para = para.strip_suffix('\r').unwrap_or(para);
        let mut w = Wrapper {
            width,
            out: &mut out,
            line: Line::default(),
            spaces: Line::default(),
            word: Line::default(),
        };
        for ch in para.chars() {
            let Some(g) = font.glyph(ch, style.size) else {
                continue;
            };
            if g.ch == ' ' {
                w.flush_word();
                w.spaces.push(g);
            } else {
                w.word.push(g);
            }
        }
        w.flush_word();
        let line = w.line;
        out.push(line);
    }
    out
}

impl Line {
    fn push(&mut self, g: Glyph) {
        self.width += g.advance;
        self.glyphs.push(g);
    }

    fn clear(&mut self) {
        self.glyphs.clear();
        self.width = 0.0;
    }
}

/// The state of [`wrap`] within one paragraph.
struct Wrapper<'a> {
    width: f32,
    out: &'a mut Vec<Line>,
    /// The line being filled.
    line: Line,
    /// The spaces since the last word.
    spaces: Line,
    /// The word being read.
    word: Line,
}

impl Wrapper<'_> {
    /// Puts the spaces and the word read so far on the line, or on the next.
    fn flush_word(&mut self) {
        if self.word.glyphs.is_empty() {
            return;
        }
        if !self.line.glyphs.is_empty()
            && self.line.width + self.spaces.width + self.word.width > self.width
        {
            // The spaces at a break are dropped.
            self.out.push(std::mem::take(&mut self.line));
            self.spaces.clear();
        }
        self.line.width += self.spaces.width;
        self.line.glyphs.append(&mut self.spaces.glyphs);
        self.spaces.clear();
        for g in self.word.glyphs.drain(..) {
            // A word wider than the line is broken where it reaches the edge.
            if !self.line.glyphs.is_empty() && self.line.width + g.advance > self.width {
                self.out.push(std::mem::take(&mut self.line));
            }
            self.line.push(g);
        }
        self.word.clear();
    }
}

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Page>,
    /// Where the next thing goes on the last page.
    y: f32,
}

impl Layout<'_> {
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` more fits on this one (or this one is still empty).
    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    /// A gap before the next block, unless at the top of a page.
    fn gap(&mut self, height: f32) {
        if self.y > TOP {
            self.y += height;
        }
    }

    fn text(&mut self, x: f32, top: f32, style: TextStyle, line: Line) {
        push_text(self.page(), x, top, style, line);
    }

    /// Wrapped text across the page's width, breaking pages between lines.
    fn lines(&mut self, text: &str, style: TextStyle) {
        for line in wrap(self.fonts, text, style, CONTENT_WIDTH) {
            self.ensure(style.line_height);
            self.text(LEFT, self.y, style, line);
            self.y += style.line_height;
        }
    }

    fn header(&mut self, doc: &Document) {
        if !doc.organisation.is_empty() {
            self.lines(&doc.organisation, ORGANISATION);
            self.y += 4.0;
        }
        if !doc.title.is_empty() {
            self.lines(&doc.title, TITLE);
        }
        if !doc.subtitle.is_empty() {
            self.lines(&doc.subtitle, SUBTITLE);
        }
        if !doc.meta.is_empty() {
            self.gap(6.0);
            self.key_values(&doc.meta, BODY);
        }
        if self.y > TOP {
            self.y += 6.0;
            let y = self.y;
            self.page().push(Op::Rule {
                x1: LEFT,
                x2: RIGHT,
                y,
                width: 0.75,
                gray: 0.5,
            });
            self.y += 6.0;
        }
    }

    fn heading(&mut self, text: &str) {
        self.gap(BLOCK_GAP + 4.0);
        // Keep the heading with the first lines of what follows.
        self.ensure(HEADING.line_height + 3.0 * BODY.line_height);
        self.lines(text, HEADING);
        self.y += 2.0;
    }

    fn paragraph(&mut self, text: &str) {
        self.gap(BLOCK_GAP);
        self.lines(text, BODY);
    }

    fn key_values(&mut self, pairs: &[(String, String)], style: TextStyle) {
        if pairs.is_empty() {
            return;
        }
        self.gap(BLOCK_GAP);
        let label_style = TextStyle {
            font: Style::Bold,
            ..style
        };
        let widest = pairs
            .iter()
            .flat_map(|(label, _)| wrap(self.fonts, label, label_style, f32::INFINITY))
            .map(|l| l.width)
            .fold(0.0_f32, f32::max);
        let label_width = widest.min(CONTENT_WIDTH * 0.4);
        let value_x = LEFT + label_width + KV_GAP;
        let value_width = RIGHT - value_x;
        for (label, value) in pairs {
            let cells = [
                Cell {
                    x: LEFT,
                    width: label_width,
                    align: Align::Left,
                    lines: wrap(self.fonts, label, label_style, label_width),
                },
                Cell {
                    x: value_x,
                    width: value_width,
                    align: Align::Left,
                    lines: wrap(self.fonts, value, style, value_width),
                },
            ];
            let grid = Grid {
                styles: &[label_style, style],
                line_height: style.line_height,
                pad: KV_PAD_Y,
                header_height: 0.0,
                rule: false,
            };
            self.row(&cells, &grid, &mut |_| {});
        }
    }

    /// Draws one row of cells, splitting it between pages where it does not fit: a row that
    /// fits on a page of its own moves to the next page whole, a taller one is cut between
    /// lines. `on_new_page` draws what a continued table needs first (its header).
    fn row(&mut self, cells: &[Cell], grid: &Grid<'_>, on_new_page: &mut dyn FnMut(&mut Self)) {
        let n = cells
            .iter()
            .map(|c| c.lines.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let line_height = grid.line_height;
        let whole_page = BOTTOM - TOP - grid.header_height - 2.0 * grid.pad;
        let mut start = 0;
        // Whether nothing but a header has been drawn on this page since the row started.
        let mut fresh = false;
        while start < n {
            let available = BOTTOM - self.y - 2.0 * grid.pad;
            let remaining = n - start;
            let fit = ((available + 0.01) / line_height).floor().max(0.0) as usize;
            let take = if remaining <= fit {
                remaining
            } else if fresh || (fit >= 1 && remaining as f32 * line_height > whole_page) {
                // At least one line, so that there is progress even on a crowded page.
                fit.max(1)
            } else {
                self.new_page();
                on_new_page(self);
                fresh = true;
                continue;
            };
            let top = self.y + grid.pad;
            for (cell, style) in cells.iter().zip(grid.styles.iter().cycle()) {
                for (i, line) in cell.lines.iter().enumerate().skip(start).take(take) {
                    let x = match cell.align {
                        Align::Left => cell.x,
                        Align::Right => cell.x + (cell.width - line.width).max(0.0),
                        Align::Center => cell.x + ((cell.width - line.width) / 2.0).max(0.0),
                    };
                    let line_top = top + (i - start) as f32 * line_height;
                    self.text(x, line_top, *style, line.clone());
                }
            }
            self.y += 2.0 * grid.pad + take as f32 * line_height;
            if grid.rule {
                let y = self.y;
                self.page().push(Op::Rule {
                    x1: LEFT,
                    x2: RIGHT,
                    y,
                    width: 0.5,
                    gray: 0.75,
                });
            }
            start += take;
            if start < n {
                self.new_page();
                on_new_page(self);
                fresh = true;
            }
        }
    }

    fn table(&mut self, table: &Table) {
        if table.columns.is_empty() {
            return;
        }
        self.gap(BLOCK_GAP);
        let total: u64 = table.columns.iter().map(|c| u64::from(c.width)).sum();
        let count = table.columns.len() as f32;
        let mut x = LEFT;
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            let width = if total == 0 {
                CONTENT_WIDTH / count
            } else {
                (CONTENT_WIDTH as f64 * f64::from(column.width) / total as f64) as f32
            };
            columns.push((
                x + CELL_PAD_X,
                (width - 2.0 * CELL_PAD_X).max(0.0),
                column.align,
            ));
            x += width;
        }
        let header: Vec<Cell> = table
            .columns
            .iter()
            .zip(&columns)
            .map(|(column, &(x, width, align))| {
                let mut lines = wrap(self.fonts, &column.title, HEADER_CELL, width);
                lines.truncate(MAX_HEADER_LINES);
                Cell {
                    x,
                    width,
                    align,
                    lines,
                }
            })
            .collect();
        let header_lines = header.iter().map(|c| c.lines.len()).max().unwrap_or(1);
        let header_height = 2.0 * CELL_PAD_Y + header_lines as f32 * HEADER_CELL.line_height;
        // The header stays with the first line of the first row.
        self.ensure(header_height + 2.0 * CELL_PAD_Y + CELL.line_height);
        let draw_header = |l: &mut Self| l.table_header(&header, header_height);
        draw_header(self);
        let grid = Grid {
            styles: &[CELL],
            line_height: CELL.line_height,
            pad: CELL_PAD_Y,
            header_height,
            rule: true,
        };
        let empty = String::new();
        for row in &table.rows {
            let cells: Vec<Cell> = columns
                .iter()
                .enumerate()
                .map(|(i, &(x, width, align))| Cell {
                    x,
                    width,
                    align,
                    lines: wrap(self.fonts, row.get(i).unwrap_or(&empty), CELL, width),
                })
                .collect();
            self.row(&cells, &grid, &mut |l| draw_header(l));
        }
    }

    /// A table's header row: bold titles on grey, a darker line below.
    fn table_header(&mut self, header: &[Cell], height: f32) {
        let y = self.y;
        self.page().push(Op::Fill {
            x: LEFT,
            y,
            width: CONTENT_WIDTH,
            height,
            gray: 0.9,
        });
        for cell in header {
            for (i, line) in cell.lines.iter().enumerate() {
                let x = match cell.align {
                    Align::Left => cell.x,
                    Align::Right => cell.x + (cell.width - line.width).max(0.0),
                    Align::Center => cell.x + ((cell.width - line.width) / 2.0).max(0.0),
                };
                let top = y + CELL_PAD_Y + i as f32 * HEADER_CELL.line_height;
                self.text(x, top, HEADER_CELL, line.clone());
            }
        }
        self.y += height;
        let y = self.y;
        self.page().push(Op::Rule {
            x1: LEFT,
            x2: RIGHT,
            y,
            width: 0.75,
            gray: 0.4,
        });
    }

    fn qr(&mut self, text: &str, caption: &str) -> Result<(), DocumentError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| DocumentError::QrTooLong { len: text.len() })?;
        let modules = code.width().max(1);
        let colors = code.to_colors();
        let n = modules as f32;
        let module = (QR_SIDE / n).max(QR_MIN_MODULE).min(CONTENT_WIDTH / n);
        let side = module * n;
        // The quiet zone: four modules clear above and below (the margin is left of it).
        self.gap(BLOCK_GAP.max(4.0 * module));
        self.ensure(side);
        let (x0, y0) = (LEFT, self.y);
        for (row, line) in colors.chunks(modules).enumerate() {
            let mut col = 0;
            while col < line.len() {
                if line[col] != Color::Dark {
                    col += 1;
                    continue;
                }
                let run_start = col;
                while col < line.len() && line[col] == Color::Dark {
                    col += 1;
                }
                self.page().push(Op::Fill {
                    x: x0 + run_start as f32 * module,
                    y: y0 + row as f32 * module,
                    width: (col - run_start) as f32 * module,
                    height: module,
                    gray: 0.0,
                });
            }
        }
        let bottom = y0 + side + 4.0 * module;
        let caption_x = x0 + side + 4.0 * module.max(3.0);
        if caption.is_empty() {
            self.y = bottom;
        } else if RIGHT - caption_x >= 120.0 {
            // Beside the code while there is room, then on below it.
            let mut top = y0;
            let mut beside = true;
            for line in wrap(self.fonts, caption, CAPTION, RIGHT - caption_x) {
                if beside && top + CAPTION.line_height > y0 + side {
                    beside = false;
                    self.y = bottom;
                }
                if beside {
                    self.text(caption_x, top, CAPTION, line);
                    top += CAPTION.line_height;
                } else {
                    self.ensure(CAPTION.line_height);
                    self.text(caption_x, self.y, CAPTION, line);
                    self.y += CAPTION.line_height;
                }
            }
            if beside {
                self.y = bottom;
            }
        } else {
            self.y = bottom;
            self.lines(caption, CAPTION);
        }
        Ok(())
    }

    /// Every page's footer: a line, the footer text, and "Page N of M" on the right.
    fn footers(&mut self, text: &str) {
        let count = self.pages.len();
        let fonts = self.fonts;
        for (i, page) in self.pages.iter_mut().enumerate() {
            let label = format!("Page {} of {}", i + 1, count);
            let mut label_line = wrap(fonts, &label, FOOTER, f32::INFINITY);
            let label_line = label_line.pop().unwrap_or_default();
            let text_width = CONTENT_WIDTH - label_line.width - 12.0;
            page.push(Op::Rule {
                x1: LEFT,
                x2: RIGHT,
                y: FOOTER_RULE,
                width: 0.5,
                gray: 0.6,
            });
            let top = FOOTER_BASELINE - FOOTER.ascent();
            for (j, line) in footer_lines(fonts, text, text_width)
                .into_iter()
                .enumerate()
            {
                push_text(
                    page,
                    LEFT,
                    top + j as f32 * FOOTER.line_height,
                    FOOTER,
                    line,
                );
            }
            let x = RIGHT - label_line.width;
            push_text(page, x, top, FOOTER, label_line);
        }
    }
}

/// The footer text in at most [`MAX_FOOTER_LINES`] lines, the last cut short with "…" if
/// there is more.
fn footer_lines(fonts: &Fonts, text: &str, width: f32) -> Vec<Line> {
    let mut lines = wrap(fonts, text, FOOTER, width.max(0.0));
    if lines.len() > MAX_FOOTER_LINES {
        lines.truncate(MAX_FOOTER_LINES);
        let font = fonts.get(FOOTER.font);
        if let (Some(last), Some(ellipsis)) = (lines.last_mut(), font.glyph('…', FOOTER.size)) {
            while !last.glyphs.is_empty() && last.width + ellipsis.advance > width {
                if let Some(g) = last.glyphs.pop() {
                    last.width -= g.advance;
                }
            }
            last.push(ellipsis);
        }
    }
    lines
}

fn push_text(page: &mut Page, x: f32, top: f32, style: TextStyle, line: Line) {
    if line.glyphs.is_empty() {
        return;
    }
    page.push(Op::Text {
        x,
        y: top + style.ascent(),
        font: style.font,
        size: style.size,
        gray: style.gray,
        glyphs: line.glyphs,
    });
}

/// How the rows of a table or a label/value list are drawn.
struct Grid<'a> {
    /// The cells' text styles, one a column (repeated when there are fewer).
    styles: &'a [TextStyle],
    line_height: f32,
    /// Above and below each row.
    pad: f32,
    /// The height of the header repeated on each new page.
    header_height: f32,
    /// Whether a line is drawn below each row.
    rule: bool,
}

/// A cell of a row: where its text starts, how wide it is, and its wrapped lines.
struct Cell {
    x: f32,
    width: f32,
    align: Align,
    lines: Vec<Line>,
}
