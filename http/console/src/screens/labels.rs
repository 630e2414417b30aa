//! Labels: a print page for one or many devices (`/labels?ids=a,b,c`, or `ids` repeated as
//! the device list's selection sends it). Each label has a QR code of the device (its address
//! under [`crate::ConsoleSettings::public_url`] when set, else its bare id), its serial, make
//! and model. Two print layouts, chosen on the page: a 62 mm continuous roll (one label a
//! page) and A4 sheets of 3 x 8; the sizes are `@page` rules in the stylesheet (no inline
//! style: the CSP refuses them).

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use maud::{Markup, html};
use rehome_core::Error;

use super::Route;
use crate::ConsoleState;
use crate::error::{ConsoleError, ConsoleResult};
use crate::layout::{page, trusted_svg};
use crate::session::Session;

/// The most labels one page prints (ten A4 sheets).
pub const MAX_LABELS: usize = 240;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new("/labels", get(labels))]
}

/// A print layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A 62 mm continuous label roll, one label a page.
    Roll,
    /// A4 sheets of 3 x 8 labels.
    A4,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Roll => "roll",
            Layout::A4 => "a4",
        }
    }
}

/// What a device's QR code holds: `<public_url>/devices/<id>` when the console knows its
/// address, else the bare id (the scan box accepts both).
pub fn qr_text(public_url: Option<&str>, id: &str) -> String {
    match public_url.map(|u| u.trim_end_matches('/')) {
        Some(base) if !base.is_empty() => format!("{base}/devices/{id}"),
        _ => id.to_owned(),
    }
}

/// The QR code of `text` as an SVG document (dark modules black, quiet zone included).
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .module_dimensions(4, 4)
        .quiet_zone(true)
        .build())
}

/// The ids of a query: `ids=a,b` and repeated `ids`, in order, without repeats or blanks.
pub fn parse_ids(raw: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if k != "ids" {
            continue;
        }
        for id in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

fn layout_of(raw: Option<&str>) -> Layout {
    let chosen = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "layout")
        .map(|(_, v)| v.into_owned());
    match chosen.as_deref() {
        Some("a4") => Layout::A4,
        _ => Layout::Roll,
    }
}

fn link(ids: &[String], layout: Layout) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("ids", &ids.join(","))
        .append_pair("layout", layout.name())
        .finish();
    format!("/labels?{query}")
}

/// `GET /labels?ids=...&layout=roll|a4`.
async fn labels(
    State(state): State<ConsoleState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ConsoleResult<Html<String>> {
    let ids = parse_ids(raw.as_deref());
    let layout = layout_of(raw.as_deref());
    if ids.is_empty() {
        return Err(ConsoleError::BadRequest(
            "Choose the devices to label: select them in the device list, then Print labels."
                .into(),
        ));
    }
    if ids.len() > MAX_LABELS {
        return Err(ConsoleError::BadRequest(format!(
            "At most {MAX_LABELS} labels can be printed at once."
        )));
    }
    let public_url = state.settings.public_url.as_deref();
    let mut cards: Vec<Markup> = Vec::with_capacity(ids.len());
    for id in &ids {
        let device = match state
            .core
            .get(&session.caller, rehome_core::services::Model::Device, id)
            .await
        {
            Ok(rehome_core::Record::Device(d)) => d,
            Ok(_) | Err(Error::NotFound(_)) => {
                return Err(ConsoleError::BadRequest(format!(
                    "There is no device {id}: go back and choose again."
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let device_id = device.device_id.to_string();
        let svg =
            qr_svg(&qr_text(public_url, &device_id)).map_err(|e| Error::internal("QR code", e))?;
        cards.push(html! {
            article.label {
                div.label-qr role="img" aria-label=(format!("QR code of device {device_id}")) {
                    (trusted_svg(&svg))
                }
                div.label-text {
                    p.label-serial { (device.serial_number) }
                    p { (device.make) " " (device.model) }
                    p.label-id { (device_id) }
                }
            }
        });
    }
    let body = html! {
        div.no-print {
            h1 { "Labels" }
            p { (ids.len()) " label(s). Choose the paper, then print with your browser (Ctrl+P)." }
            nav.layouts aria-label="Paper" {
                a href=(link(&ids, Layout::Roll)) aria-current=[(layout == Layout::Roll).then_some("true")] {
                    "62 mm label roll"
                }
                a href=(link(&ids, Layout::A4)) aria-current=[(layout == Layout::A4).then_some("true")] {
                    "A4 sheet, 3 × 8"
                }
            }
        }
        div class=(format!("labels labels-{}", layout.name())) {
            @for c in cards { (c) }
        }
    };
    Ok(page(&session, "/labels", "Labels", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_holds_the_address_when_the_console_knows_it() {
        let id = "7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c";
        let table: [(Option<&str>, &str); 4] = [
            (None, "7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c"),
            (Some(""), "7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c"),
            (
                Some("https://rehome.example.org"),
                "https://rehome.example.org/devices/7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c",
            ),
            (
                Some("https://rehome.example.org/"),
                "https://rehome.example.org/devices/7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c",
            ),
        ];
        for (url, want) in table {
            assert_eq!(qr_text(url, id), want, "{url:?}");
        }
    }

    #[test]
    fn ids_come_as_a_list_or_repeated() {
        assert_eq!(parse_ids(Some("ids=a,b,,a&ids=c&x=d")), ["a", "b", "c"]);
        assert_eq!(parse_ids(Some("ids=%20a%20")), ["a"]);
        assert!(parse_ids(None).is_empty());
    }

    /// Draws the SVG's dark rectangles (`M{x} {y}h{w}v{h}H{x}V{y}`, the encoder's path form)
    /// into a grey image and decodes it with rqrr, an independent decoder.
    fn decode(svg: &str) -> String {
        let dims = |key: &str| -> usize {
            let at = svg.find(key).expect("dimension") + key.len();
            let end = svg[at..].find('"').expect("end");
            svg[at..at + end].parse().expect("number")
        };
        let (w, h) = (dims("width=\""), dims("height=\""));
        let mut dark = vec![false; w * h];
        let d_at = svg.find(" d=\"").expect("path") + 4;
        let d_end = svg[d_at..].find('"').expect("end") + d_at;
        for rect in svg[d_at..d_end].split('M').filter(|s| !s.is_empty()) {
            let nums: Vec<usize> = rect
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().expect("number"))
                .collect();
            let (x, y, rw, rh) = (nums[0], nums[1], nums[2], nums[3]);
            for yy in y..y + rh {
                for xx in x..x + rw {
                    dark[yy * w + xx] = true;
                }
            }
        }
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            if dark[y * w + x] { 0 } else { 255 }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        let (_, content) = grids[0].decode().expect("decodes");
        content
    }

    #[test]
    fn a_label_qr_decodes_to_the_device() {
        let id = "7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c";
        let svg = qr_svg(&qr_text(None, id)).expect("svg");
        assert_eq!(decode(&svg), id);
        let svg = qr_svg(&qr_text(Some("https://rehome.example.org"), id)).expect("svg");
        assert_eq!(
            decode(&svg),
            "https://rehome.example.org/devices/7c1f2b9e-4d3a-4f6e-9b1c-2a5d8e0f1b2c"
        );
    }
}
