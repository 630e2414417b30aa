//! Home: the inventory at a glance (core's summary: devices by status as an SVG bar chart
//! with a table of the same counts, devices taken in and shipped per week) and, for
//! viewAuditLog holders, the latest audit entries.

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use maud::{Markup, html};
use rehome_core::services::{InventorySummary, ListParams};
use rehome_core::{Error, Permission};

use super::Route;
use crate::ConsoleState;
use crate::error::ConsoleResult;
use crate::layout::{page, time};
use crate::session::Session;

/// The paths of this screen.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new("/", get(home))]
}

/// How many audit entries the home page shows.
const RECENT: usize = 10;

/// A horizontal bar chart: one bar per `(label, value)`, the count written beside it.
/// `aria-hidden`: the table after it says the same to assistive technology.
fn bar_chart(rows: &[(String, u64)]) -> Markup {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let row_h = 28u64;
    let label_w = 110u64;
    let bar_w = 300u64;
    let height = row_h * rows.len() as u64 + 8;
    html! {
        svg.chart viewBox=(format!("0 0 {} {height}", label_w + bar_w + 60)) role="img"
            aria-hidden="true" focusable="false" {
            @for (i, (label, value)) in rows.iter().enumerate() {
                @let y = 4 + row_h * i as u64;
                @let w = if *value == 0 { 0 } else { (bar_w * value / max).max(2) };
                text x="0" y=(y + 18) { (label) }
                rect.bar x=(label_w) y=(y + 4) width=(w) height=(row_h - 8) rx="3" {}
                text x=(label_w + w + 6) y=(y + 18) { (value) }
            }
        }
    }
}

/// Two bars per week (taken in, shipped), weeks side by side.
fn week_chart(summary: &InventorySummary) -> Markup {
    let max = summary
        .weeks
        .iter()
        .flat_map(|w| [w.taken_in, w.shipped])
        .max()
        .unwrap_or(0)
        .max(1);
    let col_w = 50u64;
    let chart_h = 140u64;
    let width = col_w * summary.weeks.len() as u64 + 10;
    html! {
        svg.chart viewBox=(format!("0 0 {width} {}", chart_h + 40)) role="img"
            aria-hidden="true" focusable="false" {
            @for (i, w) in summary.weeks.iter().enumerate() {
                @let x = 10 + col_w * i as u64;
                @let h_in = chart_h * w.taken_in / max;
                @let h_out = chart_h * w.shipped / max;
                rect.bar x=(x) y=(10 + chart_h - h_in) width="16" height=(h_in) {}
                rect.bar.alt x=(x + 18) y=(10 + chart_h - h_out) width="16" height=(h_out) {}
                text x=(x) y=(chart_h + 26) { (w.week_start.format("%d %b")) }
            }
        }
    }
}

fn summary_section(summary: &InventorySummary) -> Markup {
    let rows: Vec<(String, u64)> = summary
        .by_status
        .iter()
        .map(|c| (c.status.as_str().to_owned(), c.count))
        .collect();
    let total: u64 = rows.iter().map(|(_, v)| v).sum();
    html! {
        div.grid {
            section.card aria-labelledby="by-status" {
                h2 id="by-status" { "Devices by status" }
                (bar_chart(&rows))
                table {
                    caption.muted { (total) " devices in all" }
                    thead { tr { th scope="col" { "Status" } th.num scope="col" { "Devices" } } }
                    tbody {
                        @for (label, value) in &rows {
                            tr { th scope="row" { (label) } td.num { (value) } }
                        }
                    }
                }
            }
            section.card aria-labelledby="per-week" {
                h2 id="per-week" { "Taken in and shipped per week" }
                p.legend {
                    span { span.swatch {} "taken in" }
                    span { span.swatch.alt {} "shipped" }
                }
                (week_chart(summary))
                table {
                    thead {
                        tr {
                            th scope="col" { "Week of" }
                            th.num scope="col" { "Taken in" }
                            th.num scope="col" { "Shipped" }
                        }
                    }
                    tbody {
                        @for w in &summary.weeks {
                            tr {
                                th.nowrap scope="row" { (w.week_start.format("%Y-%m-%d")) }
                                td.num { (w.taken_in) }
                                td.num { (w.shipped) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /`.
async fn home(State(st): State<ConsoleState>, session: Session) -> ConsoleResult<Html<String>> {
    let zone = st.settings.time_zone;
    let today = st.core.now().with_timezone(&zone).date_naive();
    let summary = match st.core.inventory_summary(&session.caller, today).await {
        Ok(s) => Some(s),
        Err(Error::PermissionDenied) => None,
        Err(e) => return Err(e.into()),
    };
    let recent = if session.has(Permission::ViewAuditLog) {
        let params = ListParams::new([("page_size", RECENT.to_string())]);
        Some(st.core.list_audit(&session.caller, &params).await?.results)
    } else {
        None
    };
    let body = html! {
        h1 { "Home" }
        @match &summary {
            Some(s) => (summary_section(s)),
            None => p { "Your account cannot see the inventory (it needs the permission readDevices)." },
        }
        @if let Some(events) = &recent {
            section.card aria-labelledby="recent" {
                h2 id="recent" { "Recent activity" }
                @if events.is_empty() {
                    p.muted { "Nothing yet." }
                } @else {
                    div.table-scroll { table {
                        thead {
                            tr {
                                th scope="col" { "When" }
                                th scope="col" { "Who" }
                                th scope="col" { "What" }
                                th scope="col" { "Object" }
                            }
                        }
                        tbody {
                            @for e in events {
                                tr {
                                    td.nowrap { (time(e.timestamp, zone)) }
                                    td { (e.actor_username.as_deref().unwrap_or("system")) }
                                    td { (e.action) }
                                    td { (super::audit::object(&session, e)) }
                                }
                            }
                        }
                    } }
                    p { a href="/audit" { "The whole audit log" } }
                }
            }
        }
    };
    Ok(page(&session, "/", "Home", body))
}
