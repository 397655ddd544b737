//! What the centre shows before there is any run.

use egui::Ui;

/// The welcome text.
pub fn ui(ui: &mut Ui) {
    ui.add_space(8.0);
    ui.heading("Sample Sets");
    ui.label(
        "Train small ReLU networks on MNIST and watch, epoch by epoch, which training samples \
         switch each hidden node on (its sample set).",
    );
    ui.label(
        "Pick a cell of the grid on the left and press Train, or open a session file \
         (File > Open, or drop a .ron file here).",
    );
}
