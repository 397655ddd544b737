//! Notices as toasts: a stack over the window's bottom-right corner that never moves the
//! layout. Errors stay until dismissed; information fades after a few seconds
//! ([`INFO_NOTICE_TIME`]); a notice naming a written file opens its folder when clicked.
//!
//! Written here rather than taken from `egui-notify` (0.24, the release for egui 0.37): that
//! crate lays captions out on one line without wrapping, so a long error runs off the window
//! edge, and it paints text instead of adding widgets, so a click cannot open a folder and the
//! GUI tests (accessibility tree) cannot read a notice.

use std::time::Instant;

use egui::{Align2, RichText, Ui};

use crate::app::command::{Command, CommandSender};
use crate::app::state::{AppState, INFO_NOTICE_TIME, NOTICE_FADE, NoticeLevel};

/// Notices shown at once (the newest); older ones are counted under them.
const SHOWN: usize = 4;
/// Widest a toast gets, points (narrower windows get at most 60 % of their width).
const MAX_WIDTH: f32 = 460.0;

/// Draws the newest notices over the bottom-right corner.
pub fn ui(ctx: &egui::Context, state: &AppState, tx: &CommandSender) {
    if state.notices.is_empty() {
        return;
    }
    let now = Instant::now();
    let screen = ctx.content_rect();
    let width = MAX_WIDTH.min(screen.width() * 0.6).max(160.0);
    let mut next_change: Option<std::time::Duration> = None;
    egui::Area::new(egui::Id::unique("notices"))
        .anchor(Align2::RIGHT_BOTTOM, egui::vec2(-10.0, -10.0))
        .order(egui::Order::Foreground)
        .constrain(true)
        .show(ctx, |ui| {
            ui.set_max_width(width);
            let hidden = state.notices.len().saturating_sub(SHOWN);
            // Oldest of the shown first, so the newest sits at the bottom, nearest the corner.
            for n in state.notices.iter().skip(hidden) {
                let faded = n.faded(now);
                if n.level == NoticeLevel::Info {
                    let age = now.saturating_duration_since(n.at);
                    let wake = if age < INFO_NOTICE_TIME {
                        INFO_NOTICE_TIME - age
                    } else {
                        // Repaint while fading.
                        std::time::Duration::from_millis(30)
                    };
                    next_change = Some(next_change.map_or(wake, |w| w.min(wake)));
                }
                ui.scope(|ui| {
                    ui.multiply_opacity(1.0 - faded);
                    toast(ui, n, width, tx);
                });
                ui.add_space(4.0);
            }
            if hidden > 0 {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(format!("{hidden} older notices")).small());
                        if ui.small_button("Dismiss all").clicked() {
                            tx.send(Command::DismissAllNotices);
                        }
                    });
                });
            }
        });
    if let Some(wake) = next_change {
        ctx.request_repaint_after(wake.min(NOTICE_FADE));
    }
}

/// One toast: the message (wrapped), Open folder when it names one, and a close button.
fn toast(ui: &mut Ui, n: &crate::app::state::Notice, width: f32, tx: &CommandSender) {
    let error = n.level == NoticeLevel::Error;
    let accent = if error {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().widgets.noninteractive.fg_stroke.color
    };
    egui::Frame::popup(ui.style())
        .stroke(egui::Stroke::new(1.0, accent.gamma_multiply(0.7)))
        .show(ui, |ui| {
            ui.set_width(width - 16.0);
            ui.horizontal_top(|ui| {
                let close = ui.small_button("×").on_hover_text("Dismiss this notice");
                if close.clicked() {
                    tx.send(Command::DismissNotice(n.id));
                }
                let mut text = RichText::new(&n.text);
                if error {
                    text = text.color(accent);
                }
                // Wrapped to the toast's width: a long path or error never runs off the window.
                let label = egui::Label::new(text).wrap();
                match &n.folder {
                    Some(folder) => {
                        let r = ui
                            .add(label.sense(egui::Sense::click()))
                            .on_hover_text(format!("Click to open {}", folder.display()));
                        if r.clicked() {
                            tx.send(Command::OpenFolder(folder.clone()));
                        }
                    }
                    None => {
                        ui.add(label);
                    }
                }
            });
            if let Some(folder) = &n.folder
                && ui.small_button("Open folder").clicked()
            {
                tx.send(Command::OpenFolder(folder.clone()));
            }
        });
}
