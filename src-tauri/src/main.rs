//! The kit desktop app's entry point; everything else is in the library (`run`).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    fieldkit_app::run();
}
