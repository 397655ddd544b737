//! Notices for the user (failed files, saved exports, run failures), newest first, each with
//! a Dismiss button.

use egui::Ui;

use crate::app::command::{Command, CommandSender};
use crate::app::state::AppState;

/// Notices shown at once.
const SHOWN: usize = 4;

/// Draws the newest notices.
pub fn ui(ui: &mut Ui, state: &AppState, tx: &CommandSender) {
    for (i, m) in state.notices.iter().enumerate().rev().take(SHOWN) {
        ui.horizontal(|ui| {
            if ui.small_button("Dismiss").clicked() {
                tx.send(Command::DismissNotice(i));
            }
            ui.label(m);
        });
    }
}
