//! The renderer checked from outside: poppler's `pdftotext`, `pdfinfo`, `pdffonts` and
//! `pdftoppm` read what it wrote (they are poppler-utils; the CI script installs them).

use std::path::Path;
use std::process::Command;

use chrono::TimeZone;

use super::*;

const URL: &str = "https://rehome.example/verify/ABCD-EFGH-JKLM";

/// Runs a poppler tool on `file` (then `after`), failing the test with how to get it when it
/// is missing.
fn poppler(tool: &str, args: &[&str], file: &Path, after: &[&str]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .args(after)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{tool} could not run ({e}): the documents' tests need poppler-utils \
                 (apt-get install poppler-utils; the CI script installs it)"
            )
        });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The PDF written to a temporary file (kept while the value lives).
fn saved(pdf: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("a temporary file");
    std::io::Write::write_all(&mut file, pdf).expect("written");
    file
}

/// The text of each page, from `pdftotext -layout`.
fn page_texts(pdf: &[u8]) -> Vec<String> {
    let file = saved(pdf);
    let out = poppler(
        "pdftotext",
        &["-layout", "-enc", "UTF-8"],
        file.path(),
        &["-"],
    );
    let out = String::from_utf8(out).expect("pdftotext writes UTF-8");
    let mut pages: Vec<String> = out.split('\u{c}').map(str::to_owned).collect();
    // A form feed ends every page, so the last piece is empty.
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// The text in the order it was drawn (`pdftotext -raw`): a table cell's wrapped lines come
/// out together, where `-layout` interleaves them with the next column's.
fn drawn_text(pdf: &[u8]) -> String {
    let file = saved(pdf);
    let out = poppler("pdftotext", &["-raw", "-enc", "UTF-8"], file.path(), &["-"]);
    String::from_utf8(out).expect("pdftotext writes UTF-8")
}

/// `pdfinfo`'s page count (which also checks that the file is a readable PDF).
fn page_count(pdf: &[u8]) -> usize {
    let file = saved(pdf);
    let info = String::from_utf8_lossy(&poppler("pdfinfo", &[], file.path(), &[])).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo's output:\n{info}"))
}

/// Whitespace (spaces, line breaks, layout gaps) collapsed to single spaces.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn certificate_rows(n: usize) -> Vec<Vec<String>> {
    let models = [
        "ThinkPad T480",
        "Latitude 5490",
        "MacBook Air (2017)",
        "Pixel 4a",
    ];
    (1..=n)
        .map(|i| {
            vec![
                format!("SN-{i:05}"),
                models[i % models.len()].to_owned(),
                "Erased, verified".to_owned(),
            ]
        })
        .collect()
}

/// A certificate for all devices of a donor: the names users type, a label/value block, a
/// QR code and a 3-column table of `rows` rows.
fn certificate(rows: usize) -> Document {
    Document {
        organisation: "Laptops for Schools — Leeds".into(),
        title: "Certificate of sanitization".into(),
        subtitle: "All devices donated by Zoë Łukasiewicz".into(),
        meta: vec![
            ("Certificate".into(), "C-2025-0042".into()),
            ("Issued".into(), "3 March 2025".into()),
            ("Donor".into(), "O'Brien & Sons <Ltd>".into()),
        ],
        blocks: vec![
            Block::Qr {
                text: URL.into(),
                caption: format!("Check this certificate at {URL}"),
            },
            Block::Heading("Summary".into()),
            Block::Paragraph(
                "The storage of every device below was erased by Дмитрий and checked by \
                 Ελένη, following NIST SP 800-88 (purge). Donated by Zoë Łukasiewicz for \
                 O'Brien & Sons <Ltd>."
                    .into(),
            ),
            Block::KeyValues(vec![
                ("Method".into(), "NIST 800-88 purge, one pass".into()),
                ("Erased by".into(), "Дмитрий".into()),
                ("Verified by".into(), "Ελένη".into()),
            ]),
            Block::Heading("Devices".into()),
            Block::Table(Table {
                columns: vec![
                    Column::new("Serial number", 2),
                    Column::new("Model", 3),
                    Column::new("Outcome", 2).aligned(Align::Right),
                ],
                rows: certificate_rows(rows),
            }),
        ],
        footer: "Laptops for Schools · charity 1234567 · rehome.example/verify".into(),
        created: Some(
            chrono::Utc
                .with_ymd_and_hms(2025, 3, 3, 10, 30, 0)
                .single()
                .expect("a date"),
        ),
    }
}

#[test]
fn certificate_text_comes_back_out_on_every_page() {
    let doc = certificate(120);
    let pdf = render_pdf(&doc).expect("rendered");
    let pages = page_texts(&pdf);
    let count = page_count(&pdf);
    assert!(count >= 3, "120 rows take at least 3 pages, got {count}");
    assert_eq!(pages.len(), count, "one text page per PDF page");
    let all = normalise(&pages.join("\n"));

    let mut expected = vec![
        "Laptops for Schools — Leeds".to_owned(),
        "Certificate of sanitization".to_owned(),
        "All devices donated by Zoë Łukasiewicz".to_owned(),
        "Certificate C-2025-0042".to_owned(),
        "Issued 3 March 2025".to_owned(),
        "Donor O'Brien & Sons <Ltd>".to_owned(),
        format!("Check this certificate at {URL}"),
        "Summary".to_owned(),
        "The storage of every device below was erased by Дмитрий and checked by Ελένη, \
         following NIST SP 800-88 (purge). Donated by Zoë Łukasiewicz for O'Brien & Sons \
         <Ltd>."
            .to_owned(),
        "Method NIST 800-88 purge, one pass".to_owned(),
        "Erased by Дмитрий".to_owned(),
        "Verified by Ελένη".to_owned(),
        "Devices".to_owned(),
        "Serial number Model Outcome".to_owned(),
        "Laptops for Schools · charity 1234567 · rehome.example/verify".to_owned(),
    ];
    // Every row, its cells in column order.
    expected.extend(certificate_rows(120).iter().map(|r| r.join(" ")));
    for s in &expected {
        assert!(all.contains(s.as_str()), "{s:?} not in the text:\n{all}");
    }
    assert!(all.contains("SN-00001 Latitude 5490 Erased, verified"));
    assert!(all.contains("SN-00120 ThinkPad T480 Erased, verified"));

    // Every page's footer counts the pages pdfinfo counts.
    for (i, page) in pages.iter().enumerate() {
        let label = format!("Page {} of {count}", i + 1);
        assert!(
            normalise(page).contains(&label),
            "{label:?} on page {}",
            i + 1
        );
    }
    // The header row repeats at the top of page 2, before its first row.
    let page2 = normalise(&pages[1]);
    let header = page2
        .find("Serial number Model Outcome")
        .expect("header on page 2");
    let first_row = page2.find("SN-").expect("rows on page 2");
    assert!(
        header < first_row,
        "header before the rows on page 2:\n{page2}"
    );
    assert!(
        !page2.contains("Certificate of sanitization"),
        "title only on page 1"
    );
}

#[test]
fn page_count_of_a_bare_table_is_known() {
    // By hand: A4 is 841.89 pt tall; the body runs from the 20 mm (56.69 pt) top margin to
    // 64 pt above the bottom, 721.2 pt. The header row and each one-line row are 17.5 pt
    // (9 pt type on 11.5 pt lines, 3 pt padding above and below). A page holds the header
    // and floor((721.2 - 17.5) / 17.5) = 40 rows: 120 rows are 3 pages, 121 rows 4.
    let doc = |rows: usize| Document {
        blocks: vec![Block::Table(Table {
            columns: vec![Column::new("Serial", 1), Column::new("Model", 1)],
            rows: (1..=rows)
                .map(|i| vec![format!("S{i}"), "Model".to_owned()])
                .collect(),
        })],
        ..Document::default()
    };
    let pdf = render_pdf(&doc(120)).expect("rendered");
    assert_eq!(page_count(&pdf), 3);
    let pages = page_texts(&pdf);
    assert!(normalise(&pages[0]).contains("Page 1 of 3"));
    assert!(normalise(&pages[0]).contains("S40 Model"));
    assert!(!normalise(&pages[0]).contains("S41 "));
    assert!(normalise(&pages[1]).starts_with("Serial Model S41 Model"));
    assert!(normalise(&pages[2]).contains("S120 Model Page 3 of 3"));
    assert_eq!(page_count(&render_pdf(&doc(121)).expect("rendered")), 4);
}

/// Decodes the one QR code of a PNG with rqrr.
fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit PNG");
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let at = (y * w + x) * channels;
        let px = &pixels[at..at + channels.min(3)];
        let sum: usize = px.iter().map(|&v| usize::from(v)).sum();
        u8::try_from(sum / px.len()).unwrap_or(u8::MAX)
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    grids[0].decode().expect("the QR code decodes").1
}

#[test]
fn certificate_qr_code_decodes_from_the_rendered_page() {
    let pdf = render_pdf(&certificate(120)).expect("rendered");
    let file = saved(&pdf);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = dir.path().join("page");
    let prefix = prefix.to_str().expect("a UTF-8 path");
    poppler(
        "pdftoppm",
        &["-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile"],
        file.path(),
        &[prefix],
    );
    let png = std::fs::read(format!("{prefix}.png")).expect("the page as PNG");
    assert_eq!(decode_qr(&png), URL);
}

#[test]
fn rendering_is_deterministic() {
    let doc = certificate(120);
    let first = render_pdf(&doc).expect("rendered");
    let second = render_pdf(&doc.clone()).expect("rendered");
    assert!(first == second, "the same document gives the same bytes");
    // On another thread too (whose hash maps, if any, would be seeded differently).
    let again = doc.clone();
    let third = std::thread::spawn(move || render_pdf(&again).expect("rendered"))
        .join()
        .expect("the thread finishes");
    assert!(first == third, "the same bytes on another thread");

    let mut changed = doc.clone();
    changed.subtitle = "All devices donated by Zoë Łukasiewicy".into();
    assert!(
        render_pdf(&changed).expect("rendered") != first,
        "one character changed"
    );

    let mut dated = doc;
    dated.created = None;
    let undated = render_pdf(&dated).expect("rendered");
    assert!(undated != first, "the creation date is written");
    assert!(!String::from_utf8_lossy(&undated).contains("CreationDate"));
}

#[test]
fn one_page_certificate_is_small_with_subset_fonts() {
    let pdf = render_pdf(&certificate(10)).expect("rendered");
    assert_eq!(page_count(&pdf), 1);
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let file = saved(&pdf);
    let fonts = String::from_utf8_lossy(&poppler("pdffonts", &[], file.path(), &[])).into_owned();
    // name  type  encoding  emb sub uni  object ID
    for font in ["+DejaVuSans-Identity-H ", "+DejaVuSans-Bold-Identity-H "] {
        let line = fonts
            .lines()
            .find(|l| l.contains(font))
            .unwrap_or_else(|| panic!("{font} in\n{fonts}"));
        assert!(
            normalise(line).contains("CID TrueType Identity-H yes yes yes"),
            "embedded, subset, with a ToUnicode map: {line}"
        );
    }
    let info = String::from_utf8_lossy(&poppler("pdfinfo", &[], file.path(), &[])).into_owned();
    assert!(
        info.contains("Title:           Certificate of sanitization"),
        "{info}"
    );
    assert!(info.contains("Creator:         rehome"), "{info}");
    assert!(
        info.contains("Author:          Laptops for Schools — Leeds"),
        "{info}"
    );
    assert!(
        info.contains("Page size:       595.276 x 841.89 pts (A4)"),
        "{info}"
    );
}

#[test]
fn empty_document_is_one_valid_page() {
    let pdf = render_pdf(&Document::default()).expect("rendered");
    assert_eq!(page_count(&pdf), 1);
    assert_eq!(normalise(&page_texts(&pdf).join("")), "Page 1 of 1");

    let empties = Document {
        meta: vec![(String::new(), String::new())],
        blocks: vec![
            Block::Heading(String::new()),
            Block::Paragraph(String::new()),
            Block::KeyValues(vec![]),
            Block::Table(Table::default()),
            Block::Table(Table {
                columns: vec![Column::new("", 0), Column::new("", 0)],
                rows: vec![vec![], vec![String::new(); 5]],
            }),
            Block::Qr {
                text: String::new(),
                caption: String::new(),
            },
        ],
        ..Document::default()
    };
    let pdf = render_pdf(&empties).expect("rendered");
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn a_5000_character_word_is_broken_across_lines() {
    // Letters and digits, so that the text is checkable in order.
    let word: String = (0..5000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let doc = Document {
        title: word.clone(),
        blocks: vec![
            Block::Paragraph(word.clone()),
            Block::Table(Table {
                columns: vec![Column::new("Narrow", 1), Column::new(word.clone(), 9)],
                rows: vec![vec![word.clone(), "short".into()]],
            }),
            Block::KeyValues(vec![(word.clone(), word.clone())]),
            Block::Qr {
                text: "x".into(),
                caption: word.clone(),
            },
        ],
        footer: word.clone(),
        ..Document::default()
    };
    let pdf = render_pdf(&doc).expect("rendered");
    assert!(page_count(&pdf) > 10);

    // Alone in a paragraph, it comes back whole once the line breaks and the footers are
    // taken out.
    let doc = Document {
        blocks: vec![Block::Paragraph(word.clone())],
        ..Document::default()
    };
    let pdf = render_pdf(&doc).expect("rendered");
    let pages = page_texts(&pdf);
    assert!(
        pages.len() >= 2,
        "5,000 letters are more than a page of 10 pt text"
    );
    let text: String = pages
        .iter()
        .enumerate()
        .map(|(i, p)| p.replace(&format!("Page {} of {}", i + 1, pages.len()), ""))
        .collect::<String>()
        .split_whitespace()
        .collect();
    assert_eq!(text, word, "the word, broken only between lines");
}

#[test]
fn a_2000_row_table_spans_pages() {
    let pdf = render_pdf(&certificate(2000)).expect("rendered");
    let count = page_count(&pdf);
    assert!(count > 40, "{count} pages");
    let pages = page_texts(&pdf);
    let last = normalise(pages.last().expect("a last page"));
    assert!(last.contains("SN-02000"), "{last}");
    assert!(last.contains(&format!("Page {count} of {count}")), "{last}");
}

#[test]
fn characters_the_font_lacks_are_boxes_that_extract_as_themselves() {
    let doc = Document {
        title: "寄付 Zoë".into(),
        blocks: vec![
            Block::Paragraph("東京の学校へ — Дмитрий 😀 done\u{200d}\u{fe0f}\u{7}".into()),
            Block::KeyValues(vec![("名前".into(), "李小龍".into())]),
        ],
        ..Document::default()
    };
    let pdf = render_pdf(&doc).expect("rendered");
    let text = normalise(&page_texts(&pdf).join("\n"));
    assert!(text.contains("寄付 Zoë"), "{text}");
    assert!(text.contains("東京の学校へ — Дмитрий 😀 done"), "{text}");
    assert!(text.contains("名前 李小龍"), "{text}");
}

#[test]
fn a_qr_text_too_long_is_an_error() {
    let doc = Document {
        blocks: vec![Block::Qr {
            text: "x".repeat(5000),
            caption: String::new(),
        }],
        ..Document::default()
    };
    assert!(matches!(
        render_pdf(&doc),
        Err(DocumentError::QrTooLong { len: 5000 })
    ));
}

// ------------------------------------------------------------------ the certificate

mod certificates {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};

    use super::super::certificate::{
        CertificateInfo, CertifiedDevice, certificate_code, certificate_document, normalise_code,
    };
    use super::{decode_qr, normalise, page_texts, poppler, render_pdf, saved};
    use crate::evidence::{
        LockCheck, LockKind, LockState, MediaDestination, Medium, MediumKind, MethodType,
        MethodUsed, Outcome, Sample, Sanitization, Verification, VerificationMethod,
    };
    use crate::ids::{Digest, MediumId, SanitizationId, UserId, VerificationId};
    use crate::model::DeviceStatus;

    fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn codes_are_80_bits_of_crockford_base_32() {
        // Worked by hand: 0x84 0x21 0x08 0x42 0x10 is 10000 repeated, and 10000 is 16, "G".
        let table: [([u8; 10], &str); 4] = [
            ([0; 10], "0000-0000-0000-0000"),
            ([0xFF; 10], "ZZZZ-ZZZZ-ZZZZ-ZZZZ"),
            ([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "0400-0000-0000-0000"),
            (
                [0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10],
                "GGGG-GGGG-GGGG-GGGG",
            ),
        ];
        for (random, want) in table {
            assert_eq!(certificate_code(random), want);
        }
        let read: [(&str, Option<&str>); 6] = [
            ("gggg gggg-gggg gggg", Some("GGGG-GGGG-GGGG-GGGG")),
            ("0I0L-OOOO-1111-2222", Some("0101-0000-1111-2222")),
            ("7KQ2M9XD4HTRWP3N", Some("7KQ2-M9XD-4HTR-WP3N")),
            ("UUUU-0000-0000-0000", None),
            ("0000-0000-0000-000", None),
            ("0000-0000-0000-0000-0", None),
        ];
        for (text, want) in read {
            assert_eq!(normalise_code(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn a_device_certificate_carries_every_field_and_a_qr_code_that_opens_its_page() {
        let tech = UserId(2);
        let checker = UserId(3);
        let people: BTreeMap<UserId, String> = [
            (tech, "Noor Haddad".to_owned()),
            (checker, "Zoë Łukasiewicz".to_owned()),
        ]
        .into();
        let mut device = crate::testing::fixtures::device(1, "PF-2K9QX7");
        device.make = "Lenovo".into();
        device.model = "ThinkPad T480".into();
        device.status = DeviceStatus::Ready;
        device.sample = Sample::Picked;
        device.locks = vec![
            LockCheck {
                kind: LockKind::AppleFindMy,
                state: LockState::NonePresent,
                checked_by: tech,
                checked_at: at(11, 5),
            },
            LockCheck {
                kind: LockKind::Mdm,
                state: LockState::Removed,
                checked_by: tech,
                checked_at: at(11, 6),
            },
        ];
        let medium = |id: i64, kind, serial: &str, cap| Medium {
            id: MediumId(id),
            device: device.device_id,
            kind,
            make: "Samsung".into(),
            model: "PM981".into(),
            serial: serial.into(),
            capacity_bytes: Some(cap),
            created_at: at(9, 0),
            updated_at: at(9, 0),
            version: 1,
        };
        let media = [
            medium(1, MediumKind::Nvme, "S4DYNX0M123456", 512_110_190_592),
            medium(2, MediumKind::Hdd, "WD-WCC4N1234567", 1_000_204_886_016),
        ];
        // SHA-256 of "abc", FIPS 180-2 appendix B.1.
        let report_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let record = |id: i64, medium: i64, t, u, tool: &str| Sanitization {
            id: SanitizationId(id),
            device: device.device_id,
            medium: MediumId(medium),
            method_type: t,
            method_used: u,
            method_details: "NVMe Format, Secure Erase Setting 2".into(),
            tool: tool.into(),
            tool_version: "0.38".into(),
            verification_method: VerificationMethod::Full,
            outcome: Outcome::Passed,
            started_at: at(9, 30),
            finished_at: at(10, 15),
            performed_by: tech,
            data_classification: "Confidential".into(),
            post_classification: "Unclassified".into(),
            destination: MediaDestination::ExternalReuse,
            notes: String::new(),
            supersedes: None,
            report: Digest::from_hex(report_hex),
            recorded_by: Some(tech),
            recorded_at: at(10, 20),
        };
        let records = [
            record(7, 1, MethodType::Purge, MethodUsed::CryptoErase, "nvme-cli"),
            record(8, 2, MethodType::Clear, MethodUsed::Overwrite, "nwipe"),
        ];
        let verification = Verification {
            id: VerificationId(4),
            device: device.device_id,
            verified_by: checker,
            verified_at: at(11, 30),
            outcome: Outcome::Passed,
            records: vec![SanitizationId(7), SanitizationId(8)],
            notes: String::new(),
        };
        let url = "https://rehome.example.org/verify/7KQ2-M9XD-4HTR-WP3N";
        let info = CertificateInfo {
            organisation: "Laptops for Schools – Brno",
            code: "7KQ2-M9XD-4HTR-WP3N",
            verify_url: url,
            issued_at: at(12, 0),
            issued_by: "Ada Coordinator",
            donor: Some("O'Brien & Sons <Ltd>"),
            people: &people,
        };
        let devices = [CertifiedDevice {
            device: &device,
            media: &media,
            records: &records,
            verification: Some(&verification),
        }];
        let doc = certificate_document(&info, &devices);
        let pdf = render_pdf(&doc).expect("rendered");
        if let Some(dir) = std::env::var_os("REHOME_CERTIFICATE_SAMPLE") {
            // Keeps the sample for people to look at (`REHOME_CERTIFICATE_SAMPLE=/tmp`).
            let path = std::path::Path::new(&dir).join("certificate-sample.pdf");
            std::fs::write(&path, &pdf).expect("the sample written");
        }
        let text = normalise(&page_texts(&pdf).join(" "));
        for want in [
            "Laptops for Schools – Brno",
            "Certificate of Sanitization",
            "Media sanitization under NIST SP 800-88 Rev. 1",
            "Certificate 7KQ2-M9XD-4HTR-WP3N",
            "Issued 2026-12-01 12:00 UTC",
            "Issued by Ada Coordinator",
            "Donor O'Brien & Sons <Ltd>",
            "Lenovo ThinkPad T480, serial number PF-2K9QX7",
            "Serial number PF-2K9QX7",
            "Apple Find My / iCloud: none present, confirmed by Noor Haddad on 2026-12-01 11:05 UTC",
            "Google Factory Reset Protection: not checked",
            "MDM enrolment: removed, confirmed by Noor Haddad on 2026-12-01 11:06 UTC",
            "Passed by Zoë Łukasiewicz on 2026-12-01 11:30 UTC",
            "Quality sampling Picked for a second person's verification",
            "S4DYNX0M123456",
            "WD-WCC4N1234567",
            "512 GB",
            "1000 GB",
            "Purge (Crypto erase)",
            "Clear (Overwrite)",
            "Record 7 of medium S4DYNX0M123456",
            "Record 8 of medium WD-WCC4N1234567",
            "Method details NVMe Format, Secure Erase Setting 2",
            "Tool nvme-cli 0.38",
            "Tool nwipe 0.38",
            "Verification method Full",
            "by Noor Haddad, 2026-12-01 09:30 UTC to 2026-12-01 10:15 UTC",
            "Confidential before, Unclassified after",
            "Media destination External reuse",
            "Verify this certificate",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        // The hash may wrap: compared without white space, once per record.
        let dense: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(dense.matches(report_hex).count(), 2, "{text}");
        // The QR code opens the verification page.
        let file = saved(&pdf);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let prefix = dir.path().join("page");
        let prefix = prefix.to_str().expect("a UTF-8 path");
        let pages = page_texts(&pdf).len().to_string();
        poppler(
            "pdftoppm",
            &[
                "-r",
                "150",
                "-png",
                "-f",
                &pages,
                "-l",
                &pages,
                "-singlefile",
            ],
            file.path(),
            &[prefix],
        );
        let png = std::fs::read(format!("{prefix}.png")).expect("the page as PNG");
        assert_eq!(decode_qr(&png), url);
        // Issued once: the same records give the same bytes.
        assert_eq!(
            render_pdf(&certificate_document(&info, &devices)).ok(),
            Some(pdf)
        );
    }
}

// ------------------------------------------------------------------ donor report, packing list

mod reports {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::super::reports::{
        DeviceTrail, donor_report_csv, donor_report_document, packing_list_document,
        sanitization_summary,
    };
    use super::{drawn_text, normalise, page_texts, render_pdf};
    use crate::evidence::{
        MediaDestination, Medium, MediumKind, MethodType, MethodUsed, Outcome, Recycling,
        Sanitization, Verification, VerificationMethod,
    };
    use crate::ids::{LocationId, ShipmentId, VerificationId};
    use crate::model::{Device, DeviceStatus, Location, Shipment};
    use crate::testing::fixtures;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn medium(id: i64, device: &Device, serial: &str) -> Medium {
        Medium {
            kind: MediumKind::Ssd,
            ..fixtures::medium(id, device.device_id, serial)
        }
    }

    fn record(
        id: i64,
        device: &Device,
        medium: i64,
        t: MethodType,
        u: MethodUsed,
        o: Outcome,
    ) -> Sanitization {
        Sanitization {
            method_type: t,
            method_used: u,
            outcome: o,
            verification_method: VerificationMethod::Full,
            destination: MediaDestination::ExternalReuse,
            ..fixtures::sanitization(id, device.device_id, medium, 2)
        }
    }

    #[test]
    fn each_device_says_how_it_was_sanitized_and_what_became_of_it() {
        let mut shipped = fixtures::device(1, "SN-SHIP");
        shipped.make = "Lenovo".into();
        shipped.model = "T480".into();
        shipped.date_received = Some(day(2));
        shipped.status = DeviceStatus::Delivered;
        let mut phone = fixtures::device(2, "SN-PHONE");
        phone.device_type = "Smartphone".into();
        phone.no_media = true;
        phone.status = DeviceStatus::Ready;
        let mut legacy = fixtures::device(3, "SN-OLD");
        legacy.status = DeviceStatus::Wiped;
        legacy.no_evidence_recorded = true;
        let mut scrap = fixtures::device(4, "SN-SCRAP");
        scrap.status = DeviceStatus::Recycled;
        scrap.recycling = Some(Recycling {
            location: None,
            processor: "EcoCycle s.r.o.".into(),
            date: day(20),
        });
        let half = fixtures::device(5, "SN-HALF");
        let failed = fixtures::device(6, "SN-FAIL");

        let school = Location {
            name: "Gymnázium Brno".into(),
            city: "Brno".into(),
            ..fixtures::location(9, "Kpt. Jaroše 14")
        };
        let shipment = Shipment {
            date_shipped: day(25),
            arrived: true,
            destination: Some(LocationId(9)),
            tracking_identifier: "PPL-123456".into(),
            ..fixtures::shipment(ShipmentId(3).0)
        };
        let ship_media = [medium(1, &shipped, "S-A")];
        let ship_records = [record(
            1,
            &shipped,
            1,
            MethodType::Purge,
            MethodUsed::CryptoErase,
            Outcome::Passed,
        )];
        let verification = Verification {
            id: VerificationId(1),
            ..fixtures::verification(1, shipped.device_id, 3, &[1])
        };
        let half_media = [medium(2, &half, "H-1"), medium(3, &half, "H-2")];
        let half_records = [record(
            2,
            &half,
            2,
            MethodType::Clear,
            MethodUsed::Overwrite,
            Outcome::Passed,
        )];
        let fail_media = [medium(4, &failed, "F-1")];
        let fail_records = [record(
            3,
            &failed,
            4,
            MethodType::Clear,
            MethodUsed::Overwrite,
            Outcome::Failed,
        )];
        let trip = [(&shipment, Some(&school))];
        let trail = |device, media, records, verification, shipments| DeviceTrail {
            device,
            media,
            records,
            verification,
            shipments,
        };
        let trails = [
            trail(
                &shipped,
                &ship_media[..],
                &ship_records[..],
                Some(&verification),
                &trip[..],
            ),
            trail(&phone, &[], &[], None, &[]),
            trail(&legacy, &[], &[], None, &[]),
            trail(&scrap, &[], &[], None, &[]),
            trail(&half, &half_media[..], &half_records[..], None, &[]),
            trail(&failed, &fail_media[..], &fail_records[..], None, &[]),
        ];
        // (sanitization, outcome), written out by hand.
        let want = [
            (
                "Purge (crypto erase), verified",
                "Shipped to Gymnázium Brno on 2026-11-25, delivered",
            ),
            ("No storage media", "Ready to ship"),
            (
                "No evidence recorded (before rehome kept it)",
                "Sanitized, awaiting refurbishment",
            ),
            (
                "Not recorded yet",
                "Recycled by EcoCycle s.r.o. on 2026-11-20",
            ),
            ("Incomplete: 1 of 2 media sanitized", "Received"),
            ("Failed on F-1", "Received"),
        ];
        for (t, (s, _)) in trails.iter().zip(want) {
            assert_eq!(sanitization_summary(t), s, "{}", t.device.serial_number);
        }
        let donor = crate::model::Donor {
            name: "Zoë's Café & Co.".into(),
            ..fixtures::donor(1, "zoe@example.org")
        };
        let created = Utc
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let pdf = render_pdf(&donor_report_document(
            "Laptops for Schools",
            &donor,
            &trails,
            created,
        ))
        .expect("rendered");
        let text = normalise(&drawn_text(&pdf));
        assert!(text.contains("What became of your devices"), "{text}");
        assert!(text.contains("Donor Zoë's Café & Co."), "{text}");
        for (s, o) in want {
            for part in [s, o] {
                assert!(text.contains(part), "missing {part:?} in:\n{text}");
            }
        }
        // The CSV: a header and one row per device, read back with a CSV reader.
        let csv = donor_report_csv(&trails);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .expect("a header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            headers,
            [
                "device_id",
                "type",
                "make",
                "model",
                "serial_number",
                "date_received",
                "status",
                "sanitization",
                "outcome"
            ]
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("a row").iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows[0],
            [
                "00000000-0000-0000-0000-000000000001",
                "Laptop",
                "Lenovo",
                "T480",
                "SN-SHIP",
                "2026-11-02",
                "delivered",
                "Purge (crypto erase), verified",
                "Shipped to Gymnázium Brno on 2026-11-25, delivered",
            ]
        );
        for (row, (s, o)) in rows.iter().zip(want) {
            assert_eq!((row[7].as_str(), row[8].as_str()), (s, o));
        }

        // The packing list of the shipment.
        let pdf = render_pdf(&packing_list_document(
            "Laptops for Schools",
            &shipment,
            Some(&school),
            &trails[..2],
            created,
        ))
        .expect("rendered");
        let text = normalise(&page_texts(&pdf).join(" "));
        for want in [
            "Packing list",
            "Shipment 3",
            "Shipped 2026-11-25",
            "To Gymnázium Brno, Kpt. Jaroše 14, Brno",
            "Tracking PPL-123456",
            "Devices 2",
            "SN-SHIP",
            "SN-PHONE",
            "No storage media",
            "Received in good order",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
    }
}
