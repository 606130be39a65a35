//! Admin › Overview (`/admin/overview`, SPEC §14): the counts and a 30-day chart of
//! authenticated requests by credential kind. The chart is drawn on the server as SVG, with a
//! table of the same numbers for screen readers; the page needs no WebAssembly.

use crate::pages::components::AdminContent;
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewView {
    /// Label and number of each count.
    pub counts: Vec<(String, i64)>,
    /// The chart, drawn on the server (`chart`).
    pub chart: String,
}

#[server(prefix = "/rpc", endpoint = "admin_overview")]
pub async fn overview() -> Result<OverviewView, AppError> {
    use crate::web::context;
    context::admin()?;
    let state = context::state();
    let figures =
        crate::admin::overview::figures(&state.store, &state.token_use, state.clock.now()).await?;
    Ok(OverviewView {
        counts: vec![
            ("Users".into(), figures.users),
            ("Active tokens".into(), figures.active_tokens),
            ("Expiring within 7 days".into(), figures.expiring_soon),
            ("Unused for 30 days".into(), figures.unused),
            ("Revoked this month".into(), figures.revoked_this_month),
        ],
        chart: chart::svg(&figures.requests),
    })
}

#[component]
pub fn AdminOverviewPage() -> impl IntoView {
    crate::pages::components::forbid_non_admins();
    let figures = Resource::new(|| (), |_| overview());
    view! {
        <Title text="Overview" />
        <p class="eyebrow">"Admin"</p>
        <h1>"Overview"</h1>
        <AdminContent data=figures forbidden="Only administrators can see the overview." show=|view| view! {
            <ul class="counts">
                {view.counts.into_iter().map(|(label, number)| view! {
                    <li class="card count"><strong>{number}</strong><span>{label}</span></li>
                }).collect_view()}
            </ul>
            <section class="card" aria-labelledby="requests-heading">
                <h2 id="requests-heading">"Authenticated requests, last 30 days"</h2>
                <div class="chart" inner_html=view.chart></div>
            </section>
        } />
    }
}

#[cfg(feature = "ssr")]
mod chart {
    use crate::admin::overview::KINDS;
    use chrono::NaiveDate;
    use std::fmt::Write;

    const WIDTH: i64 = 600;
    const HEIGHT: i64 = 160;
    const BAR: i64 = 20;

    /// Stacked bars, one per day and a colour per kind, with a legend; then a visually hidden
    /// table holding every number. `series` follows `KINDS`.
    pub fn svg(series: &[Vec<(NaiveDate, i64)>]) -> String {
        let days = series.first().map_or(0, Vec::len);
        let totals: Vec<i64> = (0..days)
            .map(|day| series.iter().map(|kind| kind[day].1).sum())
            .collect();
        let highest = totals.iter().copied().max().unwrap_or(0).max(1);
        let total: i64 = totals.iter().sum();
        let mut out = format!(
            r#"<svg class="requests" viewBox="0 0 {WIDTH} {}" role="img" aria-label="{total} authenticated requests in the last 30 days; the numbers per day are in the table below."><line x1="0" y1="{HEIGHT}.5" x2="{WIDTH}" y2="{HEIGHT}.5"/>"#,
            HEIGHT + 24
        );
        for day in 0..days {
            let mut top = HEIGHT;
            for (kind, (name, _)) in series.iter().zip(KINDS) {
                let (date, count) = kind[day];
                if count == 0 {
                    continue;
                }
                let height = (count * HEIGHT / highest).max(1);
                top -= height;
                let _ = write!(
                    out,
                    r#"<rect class="kind-{name}" x="{}" y="{top}" width="{}" height="{height}"><title>{date}: {count} ({name})</title></rect>"#,
                    day as i64 * BAR,
                    BAR - 4
                );
            }
        }
        for (n, (name, label)) in KINDS.iter().enumerate() {
            let x = n as i64 * 200;
            let _ = write!(
                out,
                r#"<rect class="kind-{name}" x="{x}" y="{}" width="10" height="10"/><text x="{}" y="{}">{label}</text>"#,
                HEIGHT + 12,
                x + 14,
                HEIGHT + 21
            );
        }
        out.push_str("</svg>");
        out.push_str(r#"<table class="visually-hidden"><caption>Authenticated requests per day</caption><thead><tr><th scope="col">Day</th>"#);
        for (_, label) in KINDS {
            let _ = write!(out, r#"<th scope="col">{label}</th>"#);
        }
        out.push_str("</tr></thead><tbody>");
        for day in 0..days {
            let _ = write!(out, r#"<tr><th scope="row">{}</th>"#, series[0][day].0);
            for kind in series {
                let _ = write!(out, "<td>{}</td>", kind[day].1);
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_chart_stacks_kinds_and_says_the_numbers() {
            let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
            let series: Vec<Vec<(NaiveDate, i64)>> = [[4, 0], [0, 0], [2, 2]]
                .iter()
                .map(|counts| {
                    counts
                        .iter()
                        .enumerate()
                        .map(|(n, c)| (first + chrono::Days::new(n as u64), *c))
                        .collect()
                })
                .collect();
            let markup = svg(&series);
            assert!(markup.contains(r#"aria-label="8 authenticated requests"#));
            // Day one: 4 PAT requests of the busiest day's 6, under 2 session requests.
            assert!(markup.contains(r#"class="kind-pat" x="0" y="54" width="16" height="106""#));
            assert!(markup.contains(r#"class="kind-session" x="0" y="1" width="16" height="53""#));
            assert!(markup.contains("<title>2026-11-02: 2 (session)</title>"));
            assert!(markup.contains(
                r#"<tr><th scope="row">2026-11-01</th><td>4</td><td>0</td><td>2</td></tr>"#
            ));
        }
    }
}
