//! Writes laid-out pages as a PDF with pdf-writer: fonts as subset CID fonts (Identity-H,
//! two bytes a glyph) with a `ToUnicode` map, contents Flate-compressed.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Date, Filter, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::font::{Font, Fonts, Glyph, Style};
use super::layout::{Op, PAGE_HEIGHT, PAGE_WIDTH, Page};
use super::{Document, DocumentError};

const SYSTEM_INFO: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The glyphs one font draws in the document.
#[derive(Default)]
struct Usage {
    /// Old glyph id to CID (the glyph's id in the subset), in order of first use; `.notdef`
    /// is CID 0.
    remapper: GlyphRemapper,
    /// The character each glyph stands for in the `ToUnicode` map: the first one drawn with
    /// it. Another character drawn with the same glyph (and every `.notdef`) is marked with
    /// `ActualText` instead.
    unicode: BTreeMap<u16, char>,
    used: bool,
}

impl Usage {
    /// Whether `g` is extracted right from the `ToUnicode` map alone.
    fn maps(&self, g: &Glyph) -> bool {
        g.gid != 0 && self.unicode.get(&g.gid) == Some(&g.ch)
    }

    fn cid(&self, gid: u16) -> u16 {
        self.remapper.get(gid).unwrap_or(0)
    }
}

/// The PDF resource name of a font.
fn resource_name(style: Style) -> Name<'static> {
    match style {
        Style::Regular => Name(b"F1"),
        Style::Bold => Name(b"F2"),
    }
}

pub(super) fn write(
    doc: &Document,
    fonts: &Fonts,
    pages: &[Page],
) -> Result<Vec<u8>, DocumentError> {
    let mut usage = [Usage::default(), Usage::default()];
    for op in pages.iter().flatten() {
        if let Op::Text { font, glyphs, .. } = op {
            let u = &mut usage[font.index()];
            u.used = true;
            for g in glyphs {
                u.remapper.remap(g.gid);
                if g.gid != 0 {
                    u.unicode.entry(g.gid).or_insert(g.ch);
                }
            }
        }
    }

    let mut next = 0;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let font_ids: Vec<(Style, Ref)> = Style::ALL
        .into_iter()
        .filter(|s| usage[s.index()].used)
        .map(|s| (s, alloc()))
        .collect();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    pdf.set_version(1, 7);
    {
        let mut catalog = pdf.catalog(catalog_id);
        catalog.pages(tree_id);
        catalog.viewer_preferences().display_doc_title(true);
    }
    {
        let mut info = pdf.document_info(info_id);
        if !doc.title.is_empty() {
            info.title(TextStr(&doc.title));
        }
        if !doc.organisation.is_empty() {
            info.author(TextStr(&doc.organisation));
        }
        info.creator(TextStr("rehome"));
        info.producer(TextStr("rehome-core"));
        if let Some(date) = doc.created.as_ref().and_then(pdf_date) {
            info.creation_date(date);
        }
    }
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|&(page, _)| page))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));

    for (ops, &(page_id, content_id)) in pages.iter().zip(&page_ids) {
        {
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
                .parent(tree_id)
                .contents(content_id);
            let mut resources = page.resources();
            let mut dict = resources.fonts();
            for &(style, font_id) in &font_ids {
                dict.pair(resource_name(style), font_id);
            }
        }
        let content = deflate(&content(ops, &usage));
        pdf.stream(content_id, &content).filter(Filter::FlateDecode);
    }

    for &(style, type0_id) in &font_ids {
        let ids = [alloc(), alloc(), alloc(), alloc()];
        write_font(
            &mut pdf,
            fonts.get(style),
            &usage[style.index()],
            type0_id,
            ids,
        )?;
    }
    Ok(pdf.finish())
}

/// A page's content stream.
fn content(ops: &[Op], usage: &[Usage; 2]) -> Vec<u8> {
    let mut c = Content::new();
    for op in ops {
        match op {
            Op::Fill {
                x,
                y,
                width,
                height,
                gray,
            } => {
                c.set_fill_gray(*gray);
                c.rect(*x, PAGE_HEIGHT - y - height, *width, *height);
                c.fill_nonzero();
            }
            Op::Rule {
                x1,
                x2,
                y,
                width,
                gray,
            } => {
                c.set_stroke_gray(*gray);
                c.set_line_width(*width);
                c.move_to(*x1, PAGE_HEIGHT - y);
                c.line_to(*x2, PAGE_HEIGHT - y);
                c.stroke();
            }
            Op::Text {
                x,
                y,
                font,
                size,
                gray,
                glyphs,
            } => {
                let u = &usage[font.index()];
                c.set_fill_gray(*gray);
                c.begin_text();
                c.set_font(resource_name(*font), *size);
                c.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, PAGE_HEIGHT - y]);
                // Runs of glyphs that the ToUnicode map gives back, and runs that need their
                // characters spelled out as ActualText.
                for run in glyphs.chunk_by(|a, b| u.maps(a) == u.maps(b)) {
                    let bytes: Vec<u8> = run
                        .iter()
                        .flat_map(|g| u.cid(g.gid).to_be_bytes())
                        .collect();
                    let mapped = run.first().is_some_and(|g| u.maps(g));
                    if mapped {
                        c.show(Str(&bytes));
                    } else {
                        let text: String = run.iter().map(|g| g.ch).collect();
                        c.begin_marked_content_with_properties(Name(b"Span"))
                            .properties()
                            .actual_text(TextStr(&text));
                        c.show(Str(&bytes));
                        c.end_marked_content();
                    }
                }
                c.end_text();
            }
        }
    }
    c.finish().into_vec()
}

/// One font as a Type 0 font over a CID font with the subset embedded; `ids` are those of the
/// CID font, its descriptor, its `ToUnicode` map and its font file.
fn write_font(
    pdf: &mut Pdf,
    font: &Font,
    usage: &Usage,
    type0_id: Ref,
    ids: [Ref; 4],
) -> Result<(), DocumentError> {
    let [cid_id, descriptor_id, cmap_id, file_id] = ids;
    let subset =
        subsetter::subset(font.data, 0, &usage.remapper).map_err(|e| DocumentError::Font {
            font: font.name,
            reason: e.to_string(),
        })?;
    // The subset tag: six capitals from the subset's hash, so that the same glyphs give the
    // same name.
    let hash = Sha256::digest(&subset);
    let tag: String = hash
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    let base_font = format!("{tag}+{}", font.name);

    pdf.type0_font(type0_id)
        .base_font(Name(format!("{base_font}-Identity-H").as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    {
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base_font.as_bytes()))
            .system_info(SYSTEM_INFO)
            .font_descriptor(descriptor_id)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let widths: Vec<f32> = usage
            .remapper
            .remapped_gids()
            .map(|gid| font.to_pdf_units(font.advance_units(gid)))
            .collect();
        cid.widths().consecutive(0, widths);
    }

    let face = &font.face;
    let bbox = face.global_bounding_box();
    let mut flags = FontFlags::SYMBOLIC;
    flags.set(FontFlags::FIXED_PITCH, face.is_monospaced());
    flags.set(FontFlags::ITALIC, face.is_italic());
    let weight = face.weight().to_number();
    pdf.font_descriptor(descriptor_id)
        .name(Name(base_font.as_bytes()))
        .flags(flags)
        .bbox(Rect::new(
            font.to_pdf_units(f32::from(bbox.x_min)),
            font.to_pdf_units(f32::from(bbox.y_min)),
            font.to_pdf_units(f32::from(bbox.x_max)),
            font.to_pdf_units(f32::from(bbox.y_max)),
        ))
        .italic_angle(face.italic_angle())
        .ascent(font.to_pdf_units(f32::from(face.ascender())))
        .descent(font.to_pdf_units(f32::from(face.descender())))
        .cap_height(font.to_pdf_units(f32::from(face.capital_height().unwrap_or(face.ascender()))))
        .stem_v(10.0 + 0.244 * (f32::from(weight) - 50.0))
        .weight(weight)
        .font_file2(file_id);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
    for (&gid, &ch) in &usage.unicode {
        cmap.pair(usage.cid(gid), ch);
    }
    let cmap = deflate(&cmap.finish());
    pdf.cmap(cmap_id, &cmap).filter(Filter::FlateDecode);

    let file = deflate(&subset);
    pdf.stream(file_id, &file).filter(Filter::FlateDecode).pair(
        Name(b"Length1"),
        i32::try_from(subset.len()).unwrap_or(i32::MAX),
    );
    Ok(())
}

/// The document's creation date in the PDF's form, if its year is one PDF can write.
fn pdf_date(at: &chrono::DateTime<chrono::Utc>) -> Option<Date> {
    let year = u16::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    // chrono's values are in range; the casts cannot truncate.
    let (month, day) = (at.month() as u8, at.day() as u8);
    let (hour, minute, second) = (at.hour() as u8, at.minute() as u8, at.second() as u8);
    Some(
        Date::new(year)
            .month(month)
            .day(day)
            .hour(hour)
            .minute(minute)
            .second(second)
            .utc_offset_hour(0)
            .utc_offset_minute(0),
    )
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}
