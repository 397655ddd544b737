//! Linked plots over the epoch axis for the selected run: loss and accuracy, the training
//! set's settled share, the per-layer bands of every metric ([`Metric::ALL`]) with optional
//! node lines, and the per-layer quantities of the backward pass and set turnover
//! ([`LayerQuantity::ALL`]), with the run's events marked on each.

use egui::{Color32, Ui};
use egui_plot::{Line, LineStyle, PlotPoints, PlotTransform, PlotUi, Text};

use super::RunView;
use super::colors::{MARKER, NEUTRAL, layer_color};
use super::epoch_axis::{
    self, EpochAxis, EventMark, LegendEntry, PlotSpec, Series, ValueFormat, nearest_record_step,
    record_text, xy,
};
use super::node_lines::{NodeDensity, node_at};
use super::seed_groups::{mean_over_seeds, seed_siblings};
use crate::app::command::{Command, CommandSender};
use crate::app::node_lines::{epoch_range, extent_on_screen};
use crate::app::runs::RunId;
use crate::app::selection::{node_label, record_label};
use crate::app::settings::{NodeLines, Setting};
use crate::grid::seeds_text;
use crate::session::metric::LayerQuantity;
use crate::session::{Metric, Session};

/// Smallest plot height, points: below it tick labels no longer fit; the plots scroll instead.
const MIN_PLOT_H: f32 = 140.0;
/// Smallest plot width, points: fewer columns below it (x tick labels need ~50 points each).
const MIN_PLOT_W: f32 = 230.0;

/// Series drawn from one version of a session.
struct Cached {
    loss: Vec<Series>,
    accuracy: Vec<Series>,
    training_set: Vec<Series>,
    /// `[metric]` band series, one per layer.
    metrics: Vec<Vec<Series>>,
    /// `[quantity]` band series, one per layer.
    quantities: Vec<Vec<Series>>,
    /// The run's events as marks.
    marks: Vec<EventMark>,
}

/// Run, version and node of the cached selected-node series.
type SelectedKey = (RunId, u64, (usize, usize));

/// The shown run and every open run's (id, version): what the seed siblings were found for.
type OpenKey = (RunId, Vec<(RunId, u64)>);

/// The plots and their caches.
#[derive(Default)]
pub struct PlotsView {
    key: Option<(RunId, u64)>,
    cached: Option<Cached>,
    /// Node-line textures.
    pub density: NodeDensity,
    /// Each metric plot's transform in the last frame (`Metric::ALL` order): sizes the node
    /// line textures and lets tests find where a value is drawn.
    pub metric_transforms: Vec<Option<PlotTransform>>,
    /// The axis the plots were drawn on in the last frame (tests map positions with it).
    pub axis: Option<EpochAxis>,
    /// The selected node's series `[metric]`, for (run, version, node).
    selected: Option<(SelectedKey, Vec<Vec<[f64; 2]>>)>,
    /// Step of the record drawn as the selected one in the last frame (read by the GUI tests).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub rendered_step: Option<u64>,
    /// The shown run's seed siblings among the open runs ([`seed_siblings`]: itself
    /// included, one run per seed, as (id, seed)), found again only when a run opens, closes
    /// or changes.
    siblings: Option<(OpenKey, Vec<(RunId, u64)>)>,
    /// The series as the mean over the siblings' seeds, for the members' (id, version).
    group: Option<(Vec<(RunId, u64)>, Cached)>,
    /// Seeds averaged in the last frame's plots (`None`: the shown run alone).
    pub drawn_group: Option<usize>,
}

/// The loss's name with its kind, for the y axis.
fn loss_title(s: &Session) -> &'static str {
    match s.preset.loss {
        crate::nn::Loss::CrossEntropy => "loss (cross-entropy)",
        crate::nn::Loss::Mse { .. } => "loss (MSE)",
    }
}

/// Train and test lines of one quantity: one colour, train solid, test dashed.
fn train_test(
    s: &Session,
    train: fn(&crate::session::EpochRecord) -> f64,
    test: fn(&crate::session::EpochRecord) -> f64,
    format: ValueFormat,
    scale: f64,
) -> Vec<Series> {
    vec![
        Series::line("train", NEUTRAL, xy(s, |e| train(e) * scale)).format(format),
        Series::line("test", NEUTRAL, xy(s, |e| test(e) * scale))
            .style(LineStyle::dashed_loose())
            .format(format),
    ]
}

/// Event marks of `s` (layer peaks in the layer's colour, the rest in the marker colour).
/// Single nodes dying are left out: a 9x320 run has hundreds, whose marks covered the top of
/// every plot and whose names filled the tooltip (`inspect` lists them; the node map shows
/// dead nodes); a layer's last node dying is marked.
pub fn event_marks(s: &Session) -> Vec<EventMark> {
    let layers = s.widths.len();
    crate::session::events::events(s)
        .into_iter()
        .filter(|e| !matches!(e.kind, crate::session::events::EventKind::NodesDie { .. }))
        .map(|e| {
            use crate::session::events::EventKind;
            let color = match &e.kind {
                EventKind::FractionPeak { layer, .. }
                | EventKind::NodesDie { layer, .. }
                | EventKind::LayerDies { layer } => layer_color(*layer, layers),
                EventKind::ChanceAccuracy { .. } | EventKind::TrainingStalls { .. } => {
                    Color32::from_rgb(230, 80, 80)
                }
            };
            let text = e.describe();
            // describe() starts with the position; the tooltip names it already.
            let text = text
                .split_once("  ")
                .map_or(text.clone(), |(_, what)| what.trim().to_string());
            EventMark {
                position: e.position,
                text,
                color,
            }
        })
        .collect()
}

impl Cached {
    /// The series and event marks of `s`.
    fn new(s: &Session) -> Self {
        Self {
            marks: event_marks(s),
            ..Self::series(s)
        }
    }

    /// The series of `s`, without its event marks (a seed group's other members: the group
    /// is marked with the shown run's events).
    fn series(s: &Session) -> Self {
        let layers = s.widths.len();
        let alpha = (0.6 / layers.max(1) as f32).clamp(0.07, 0.22);
        let layer_band = |l: usize, b: &[crate::session::BandPoint]| {
            Series::band(format!("layer {}", l + 1), layer_color(l, layers), b).band_alpha(alpha)
        };
        let mut loss = train_test(
            s,
            |e| e.train_loss,
            |e| e.test_loss,
            ValueFormat::Plain,
            1.0,
        );
        let per_sample = s.training_set_series();
        if !per_sample.is_empty() {
            loss.push(
                Series::line(
                    "per-sample train loss (median, q1..q3)",
                    Color32::from_rgb(150, 150, 150),
                    per_sample
                        .iter()
                        .map(|p| [p.position, f64::from(p.loss.median)])
                        .collect(),
                )
                .style(LineStyle::dotted_loose())
                .width(1.0),
            );
            if let Some(last) = loss.last_mut() {
                last.band = Some(
                    per_sample
                        .iter()
                        .map(|p| (f64::from(p.loss.q1), f64::from(p.loss.q3)))
                        .collect(),
                );
                last.band_alpha = 0.15;
                last.key = "per-sample loss".into();
            }
        }
        let training_set = if per_sample.is_empty() {
            Vec::new()
        } else {
            vec![
                Series::line(
                    "settled training samples",
                    NEUTRAL,
                    per_sample
                        .iter()
                        .map(|p| [p.position, p.settled_share * 100.0])
                        .collect(),
                )
                .format(ValueFormat::Percent),
            ]
        };
        Self {
            loss,
            accuracy: train_test(
                s,
                |e| e.train_accuracy,
                |e| e.test_accuracy,
                ValueFormat::Percent,
                100.0,
            ),
            training_set,
            metrics: Metric::ALL
                .iter()
                .map(|&m| {
                    (0..layers)
                        .map(|l| layer_band(l, &s.layer_band(l, m)))
                        .collect()
                })
                .collect(),
            quantities: LayerQuantity::ALL
                .iter()
                .map(|&q| {
                    (0..layers)
                        .map(|l| {
                            let mut b = layer_band(l, &q.series(s, l));
                            if !q.info().over_nodes {
                                // A layer total: a line, no band.
                                b.band = None;
                            }
                            b
                        })
                        .filter(|series| !series.points.is_empty())
                        .collect()
                })
                .collect(),
            marks: Vec::new(),
        }
    }
}

impl Cached {
    /// The series of `members` (each run's own series and its steps per epoch, the shown
    /// run's first) as the mean over their seeds with the min..max band
    /// ([`mean_over_seeds`]); the event marks stay the shown run's.
    fn group(members: &[(&Cached, u64)], group: usize) -> Option<Self> {
        let &(shown, spe) = members.first()?;
        let over = |pick: &dyn Fn(&Cached) -> &[Series]| {
            let lists: Vec<(&[Series], u64)> = members.iter().map(|(c, k)| (pick(c), *k)).collect();
            mean_over_seeds(&lists, spe, group)
        };
        let per_layer = |pick: &dyn Fn(&Cached) -> &Vec<Vec<Series>>| {
            (0..pick(shown).len())
                .map(|i| {
                    over(&|c: &Cached| pick(c).get(i).map_or(&[] as &[Series], |v| v.as_slice()))
                })
                .collect()
        };
        Some(Self {
            loss: over(&|c| &c.loss),
            accuracy: over(&|c| &c.accuracy),
            training_set: over(&|c| &c.training_set),
            metrics: per_layer(&|c| &c.metrics),
            quantities: per_layer(&|c| &c.quantities),
            marks: shown.marks.clone(),
        })
    }

    /// The series of the plot titled `title` ("loss", "accuracy", a metric's or a layer
    /// quantity's name).
    #[cfg(any(test, feature = "testing"))]
    fn tile(&self, title: &str) -> Option<&[Series]> {
        match title {
            "loss" => Some(&self.loss),
            "accuracy" => Some(&self.accuracy),
            "settled training samples" => Some(&self.training_set),
            _ => Metric::ALL
                .iter()
                .position(|m| m.info().name == title)
                .and_then(|i| self.metrics.get(i))
                .or_else(|| {
                    LayerQuantity::ALL
                        .iter()
                        .position(|q| q.info().name == title)
                        .and_then(|i| self.quantities.get(i))
                })
                .map(Vec::as_slice),
        }
    }
}

/// One plot of the grid.
struct Tile<'a> {
    title: &'static str,
    help: String,
    y_title: String,
    series: &'a [Series],
    /// `Some` for the metric plots (node lines, node picking).
    metric: Option<Metric>,
}

impl PlotsView {
    fn refresh(&mut self, run: RunId, version: u64, s: &Session) {
        if self.key != Some((run, version)) {
            self.key = Some((run, version));
            self.cached = Some(Cached::new(s));
        }
    }

    /// The "seeds as group" switch for run `run` among the `open` runs (id, version,
    /// session; see [`Self::ui`]): on or off while the open runs hold other seeds of the
    /// shown run's preset, greyed out with the reason otherwise.
    pub fn seed_switch(
        &mut self,
        ui: &mut Ui,
        view: RunView<'_>,
        open: &[(RunId, u64, &Session)],
        tx: &CommandSender,
    ) {
        let seeds: Vec<u64> = self.siblings(view.id, open).iter().map(|m| m.1).collect();
        let own = view.session.preset.seed;
        if seeds.len() >= 2 {
            let mut on = view.sel.seeds_as_group;
            if ui
                .checkbox(&mut on, format!("seeds as group ({} seeds)", seeds.len()))
                .on_hover_text(format!(
                    "On: every plot above the node map (loss, accuracy, each layer's mean of \
                     every metric) shows the mean over the open runs that differ from this \
                     one only in seed (seeds {}), with their min..max as the band. Records \
                     are matched by step; a seed that has not reached a step is left out of \
                     that step's mean. The node map, the node detail, node lines, the \
                     selected node's line and the event marks stay this run's (seed {own}): \
                     nodes are not comparable across seeds.",
                    seeds_text(&seeds)
                ))
                .changed()
            {
                tx.send(Command::SeedsAsGroup(on));
            }
        } else {
            ui.add_enabled(false, egui::Checkbox::new(&mut false, "seeds as group"))
                .on_disabled_hover_text(
                    "No other open run differs from this one only in seed. Open or train the \
                     same preset (same architecture, loss, epochs and schedule) with another \
                     seed to see the mean over seeds with its min..max band.",
                );
        }
    }

    /// The shown run's seed siblings among `open` (itself included, one per seed), found
    /// again when the open runs or their versions changed.
    fn siblings(&mut self, run: RunId, open: &[(RunId, u64, &Session)]) -> Vec<(RunId, u64)> {
        let key: OpenKey = (run, open.iter().map(|o| (o.0, o.1)).collect());
        if self.siblings.as_ref().is_none_or(|c| c.0 != key) {
            self.siblings = Some((key, seed_siblings(run, open)));
        }
        self.siblings
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default()
    }

    /// Computes the group's series when a member's session changed since the last time
    /// (expects [`Self::refresh`] done for the shown run, the first of `members`).
    fn refresh_group(&mut self, members: &[(RunId, u64, &Session)]) {
        let key: Vec<(RunId, u64)> = members.iter().map(|m| (m.0, m.1)).collect();
        if self.group.as_ref().is_some_and(|g| g.0 == key) {
            return;
        }
        let Some(shown) = self.cached.as_ref() else {
            return;
        };
        let others: Vec<Cached> = members
            .iter()
            .skip(1)
            .map(|m| Cached::series(m.2))
            .collect();
        let mut lists: Vec<(&Cached, u64)> = Vec::with_capacity(members.len());
        if let Some(first) = members.first() {
            lists.push((shown, first.2.steps_per_epoch()));
        }
        for (c, m) in others.iter().zip(members.iter().skip(1)) {
            lists.push((c, m.2.steps_per_epoch()));
        }
        self.group = Cached::group(&lists, members.len()).map(|c| (key, c));
    }

    /// The series the plot titled `title` drew in the last frame (the group's when a group
    /// was drawn).
    #[cfg(any(test, feature = "testing"))]
    pub fn drawn_series(&self, title: &str) -> Option<&[Series]> {
        let cached = if self.drawn_group.is_some() {
            self.group.as_ref().map(|g| &g.1)
        } else {
            self.cached.as_ref()
        };
        cached?.tile(title)
    }

    /// Draws `view`'s plots with the node lines of `scope` in at most `height` points (they
    /// scroll beyond); clicks send selection commands, hovering shows values only. `open` are
    /// the open runs with records (id, version, session): when some differ from the shown
    /// run only in seed, a switch offers their group (mean over seeds, min..max band) in
    /// every plot instead of the shown run alone.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        view: RunView<'_>,
        open: &[(RunId, u64, &Session)],
        scope: NodeLines,
        height: f32,
        tx: &CommandSender,
    ) {
        let (run, version, s, sel) = view.parts();
        self.refresh(run, version, s);
        let siblings = self.siblings(run, open);
        // The shown run first: its records name the positions and its axis steps.
        let mut members: Vec<(RunId, u64, &Session)> =
            open.iter().filter(|o| o.0 == run).copied().collect();
        members.extend(
            siblings
                .iter()
                .filter(|m| m.0 != run)
                .filter_map(|m| open.iter().find(|o| o.0 == m.0).copied()),
        );
        let grouped = sel.seeds_as_group && members.len() >= 2;
        if grouped {
            self.refresh_group(&members);
        }
        let sel_idx = sel.record_index(s).unwrap_or(0);
        let sel_position = s.record_position(sel_idx).unwrap_or(0.0);
        let sel_step = s.epochs.get(sel_idx).map_or(0, |e| e.step);
        let axis = if grouped {
            // Long enough for the member that got furthest.
            let sessions: Vec<&Session> = members.iter().map(|m| m.2).collect();
            EpochAxis::for_sessions(ui.ctx(), ("run", run.0), &sessions)
        } else {
            EpochAxis::new(ui.ctx(), run, s)
        };
        let layers = s.widths.len();
        let seeds: Vec<u64> = siblings.iter().map(|m| m.1).collect();
        // Over a group's mean, the selected node's line is the shown run's: named with its
        // seed.
        let node_name = |l: usize, j: usize| {
            if grouped {
                format!("{} (seed {})", node_label(l, j), s.preset.seed)
            } else {
                node_label(l, j)
            }
        };
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Plots · {}", record_label(s, sel_idx)));
            let mut follow = sel.follow_latest;
            if ui
                .checkbox(&mut follow, "follow latest")
                .on_hover_text("keep every view on the newest record while the run trains")
                .changed()
            {
                tx.send(Command::FollowLatest(follow));
            }
            ui.separator();
            epoch_axis::controls(ui);
            ui.separator();
            ui.label(egui::RichText::new("node lines:").small());
            for choice in NodeLines::ALL {
                if ui
                    .selectable_label(scope == choice, choice.label())
                    .on_hover_text(
                        "Every node's line, drawn as a density (brighter where more lines \
                         pass); hover a line to see its node, click to select it",
                    )
                    .clicked()
                {
                    tx.send(Command::Set(Setting::NodeLines(choice)));
                }
            }
            if self.density.building() {
                ui.spinner().on_hover_text("drawing node lines");
            }
        });
        // One legend for every plot (per-plot legends would cover nine-layer plots).
        ui.horizontal_wrapped(|ui| {
            if grouped {
                // As short as the single run's label, so the legend keeps to one line.
                ui.label(
                    egui::RichText::new(format!("mean of {} seeds, band min..max:", seeds.len()))
                        .small(),
                )
                .on_hover_text(format!(
                    "Each line: the mean over seeds {} of the runs open; the band behind it: \
                     their smallest and largest value",
                    seeds_text(&seeds)
                ));
            } else {
                ui.label(egui::RichText::new("layers (mean, band q1..q3):").small());
            }
            let mut entries: Vec<LegendEntry> = (0..layers)
                .map(|l| {
                    LegendEntry::new(
                        format!("layer {}", l + 1),
                        layer_color(l, layers),
                        LineStyle::Solid,
                    )
                })
                .collect();
            entries.push(LegendEntry::new("train", NEUTRAL, LineStyle::Solid));
            entries.push(LegendEntry::new("test", NEUTRAL, LineStyle::dashed_loose()));
            if let Some((l, j)) = sel.node {
                let mut e = LegendEntry::new("selected node", Color32::WHITE, LineStyle::Solid);
                e.text = node_name(l, j);
                entries.push(e);
            }
            epoch_axis::legend(ui, &entries);
        });
        let single = self.cached.take();
        let group = if grouped { self.group.take() } else { None };
        let Some(cached) = group.as_ref().map(|g| &g.1).or(single.as_ref()) else {
            self.cached = single;
            self.group = group;
            return;
        };
        let line_layer = sel.node.map_or(0, |n| n.0);
        let selected: Option<Vec<Vec<[f64; 2]>>> = sel.node.map(|node| {
            let key = (run, version, node);
            if self.selected.as_ref().is_none_or(|c| c.0 != key) {
                let series = Metric::ALL
                    .iter()
                    .map(|&m| {
                        s.node_series(node.0, node.1, m)
                            .into_iter()
                            .map(|(x, v)| [x, f64::from(v)])
                            .collect()
                    })
                    .collect();
                self.selected = Some((key, series));
            }
            self.selected
                .as_ref()
                .map(|c| c.1.clone())
                .unwrap_or_default()
        });
        let spacing = ui.spacing().item_spacing;
        // Less a scroll bar's width: the plots scroll vertically.
        let avail_w = epoch_axis::visible_width(ui) - 12.0;
        let columns = ((avail_w / MIN_PLOT_W).floor() as usize).clamp(1, 3);
        // Never wider than the panel: a plot cut off at the panel's edge loses its right end.
        let w = ((avail_w - spacing.x * (columns as f32 - 1.0)) / columns as f32 - 2.0).max(80.0);

        // The tiles: training first, then the sets, then the backward pass.
        let metric_series: Vec<Vec<Series>> = Metric::ALL
            .iter()
            .enumerate()
            .map(|(mi, _)| {
                let mut v = cached.metrics[mi].clone();
                if let (Some(own), Some((l, j))) =
                    (selected.as_ref().and_then(|o| o.get(mi)), sel.node)
                {
                    v.push(
                        Series::line(node_name(l, j), Color32::WHITE, own.clone())
                            .key("selected node")
                            .width(2.0),
                    );
                }
                v
            })
            .collect();
        let mut tiles: Vec<Tile<'_>> = vec![
            Tile {
                title: "loss",
                help: "mean loss over the training set (solid) and the test set (dashed); \
                       dotted with band: median and q1..q3 of the per-sample training loss"
                    .into(),
                y_title: loss_title(s).into(),
                series: &cached.loss,
                metric: None,
            },
            Tile {
                title: "accuracy",
                help:
                    "share of samples classified correctly: training set (solid), test set (dashed)"
                        .into(),
                y_title: "accuracy (%)".into(),
                series: &cached.accuracy,
                metric: None,
            },
        ];
        if !cached.training_set.is_empty() {
            tiles.push(Tile {
                title: "settled training samples",
                help: format!(
                    "share of all training samples whose output error is below {} (they no \
                     longer push the weights)",
                    s.settled_below
                        .map_or("the threshold".into(), |t| format!("{t}"))
                ),
                y_title: "settled (% of training set)".into(),
                series: &cached.training_set,
                metric: None,
            });
        }
        for (mi, &m) in Metric::ALL.iter().enumerate() {
            tiles.push(Tile {
                title: m.info().name,
                help: format!(
                    "{}: {}; high: {}",
                    m.label(),
                    m.info().unit,
                    m.info().high_means
                ),
                y_title: m.info().name.to_string(),
                series: &metric_series[mi],
                metric: Some(m),
            });
        }
        for (qi, &q) in LayerQuantity::ALL.iter().enumerate() {
            if cached.quantities[qi].is_empty() {
                continue;
            }
            tiles.push(Tile {
                title: q.info().name,
                help: format!("{}; high: {}", q.info().unit, q.info().high_means),
                y_title: q.info().axis.to_string(),
                series: &cached.quantities[qi],
                metric: None,
            });
        }

        let rows = tiles.len().div_ceil(columns);
        let title_h = 16.0;
        let h = ((height - 10.0) / rows.min(3) as f32 - title_h - spacing.y).max(MIN_PLOT_H);

        let line_layers = scope.layers(line_layer, layers);
        if scope == NodeLines::Off {
            self.density.clear();
        } else {
            // Sized from where the data extent was drawn last frame (the whole plot at first).
            let screen = self
                .metric_transforms
                .first()
                .copied()
                .flatten()
                .zip(epoch_range(s))
                .map_or(egui::vec2(w - 30.0, h - 20.0), |(t, r)| {
                    extent_on_screen(&t, (axis.x(r.0), axis.x(r.1)))
                });
            let to_x = |p: f64| axis.x(p);
            if let Some(job) = self.density.refresh(
                ui.ctx(),
                (run, version),
                s,
                scope,
                line_layer,
                screen,
                &to_x,
            ) {
                tx.send(Command::DrawNodeLines(Box::new(job)));
            }
        }
        let mut transforms = vec![None; Metric::ALL.len()];
        let label = |p: f64| record_text(s, p);
        let density = &self.density;
        egui::ScrollArea::vertical()
            .id_salt("plots-scroll")
            .max_height(height.max(MIN_PLOT_H + 40.0))
            .show(ui, |ui| {
                egui::Grid::new("plots-grid")
                    .spacing(spacing)
                    .show(ui, |ui| {
                        for (i, tile) in tiles.iter().enumerate() {
                            ui.vertical(|ui| {
                                ui.label(egui::RichText::new(tile.title).small().strong())
                                    .on_hover_text(&tile.help);
                                let mut spec =
                                    PlotSpec::new(tile.title, w, h, tile.y_title.clone());
                                spec.x_title = i + columns >= tiles.len();
                                if tile.metric.is_some() && scope != NodeLines::Off {
                                    // The node lines' image spans values 0..1.
                                    spec = spec.include_y([0.0, 1.0]);
                                }
                                let metric = tile.metric;
                                let hover_layers = line_layers.clone();
                                let out = axis.show(
                                    ui,
                                    &spec,
                                    tile.series,
                                    &cached.marks,
                                    Some(sel_position),
                                    &label,
                                    |p, axis| {
                                        if let Some(m) = metric
                                            && scope != NodeLines::Off
                                        {
                                            density.draw(p, m);
                                            if p.response().hovered() {
                                                hovered_node_line(
                                                    p,
                                                    axis,
                                                    (s, density),
                                                    m,
                                                    hover_layers,
                                                );
                                            }
                                        }
                                    },
                                );
                                if let Some(x) = out.clicked
                                    && let Some(step) = nearest_record_step(s, x)
                                {
                                    tx.send(Command::SelectStep(step));
                                }
                                if let Some(m) = tile.metric {
                                    transforms[m.index()] = out.transform;
                                    if scope != NodeLines::Off
                                        && out.clicked.is_some()
                                        && let Some(t) = out.transform
                                        && let Some(pos) = ui.input(|i| i.pointer.interact_pos())
                                        && let Some(node) =
                                            pick(&axis, &t, pos, (s, density), m, &line_layers)
                                    {
                                        tx.send(Command::SelectNode(Some(node)));
                                    }
                                }
                            });
                            if (i + 1) % columns == 0 {
                                ui.end_row();
                            }
                        }
                    });
            });
        self.metric_transforms = transforms;
        self.drawn_group = group.as_ref().map(|_| members.len());
        self.cached = single;
        if group.is_some() {
            self.group = group;
        }
        self.axis = Some(axis);
        self.rendered_step = Some(sel_step);
    }
}

/// How close (in points) the pointer must be to a node line to hover or click it.
const PICK_POINTS: f64 = 5.0;

/// The node whose line passes under screen position `pos` of a plot drawn with `t`.
fn pick(
    axis: &EpochAxis,
    t: &PlotTransform,
    pos: egui::Pos2,
    (s, density): (&Session, &NodeDensity),
    m: Metric,
    layers: &std::ops::Range<usize>,
) -> Option<(usize, usize)> {
    let mut at = t.value_from_position(pos);
    at.x = axis.position(at.x);
    let tolerance = PICK_POINTS / t.dpos_dvalue_y().abs().max(f64::EPSILON);
    node_at(s, density, m, layers.clone(), at, tolerance)
}

/// Highlights the node line under the pointer and names its node.
fn hovered_node_line(
    p: &mut PlotUi<'_>,
    axis: &EpochAxis,
    (s, density): (&Session, &NodeDensity),
    m: Metric,
    layers: std::ops::Range<usize>,
) {
    let Some(pos) = p.response().hover_pos() else {
        return;
    };
    let Some((l, j)) = pick(axis, p.transform(), pos, (s, density), m, &layers) else {
        return;
    };
    let pts: PlotPoints<'_> = s
        .node_series(l, j, m)
        .into_iter()
        .map(|(x, v)| [axis.x(x), f64::from(v)])
        .collect();
    let color = MARKER;
    p.line(
        Line::new("", pts)
            .color(color)
            .width(1.5)
            .allow_hover(false),
    );
    // Beside the pointer, not under it, on a dark patch so it reads over the lines.
    let at = p
        .transform()
        .value_from_position(pos + egui::vec2(10.0, -8.0));
    p.text(
        Text::new(
            "",
            at,
            egui::RichText::new(node_label(l, j))
                .color(color)
                .background_color(Color32::from_black_alpha(200)),
        )
        .anchor(egui::Align2::LEFT_BOTTOM),
    );
}
