//! QR codes as inline SVG, drawn on the server (no JavaScript, no image files): the
//! `qrcode` crate computes the modules, this module draws them as one `<path>` of
//! unit rectangles — one `M{x} {y}h{n}v1h-{n}z` per horizontal run of dark modules —
//! inside a white quiet zone of [`QUIET`] modules. Error correction level M.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border on each side (the standard's quiet zone).
pub const QUIET: usize = 4;
/// Screen pixels per module.
const SCALE: usize = 4;

/// Why no QR code could be made.
#[derive(Debug, thiserror::Error)]
#[error("the data does not fit in a QR code: {0}")]
pub struct QrError(String);

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `data` as an accessible inline SVG whose `<title>` is `title`.
///
/// # Errors
/// [`QrError`] when `data` is too long for the largest QR code.
pub fn svg(data: &[u8], title: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(data, EcLevel::M)
        .map_err(|e| QrError(e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let n = x - start;
                path.push_str(&format!("M{} {}h{n}v1h-{n}z", start + QUIET, y + QUIET));
            } else {
                x += 1;
            }
        }
    }
    let side = width + 2 * QUIET;
    let px = side * SCALE;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         width=\"{px}\" height=\"{px}\" role=\"img\" aria-labelledby=\"qr-title\" \
         shape-rendering=\"crispEdges\" class=\"qr\"><title id=\"qr-title\">{}</title>\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/>\
         <path fill=\"#000000\" d=\"{path}\"/></svg>",
        escape(title)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_a_title_a_quiet_zone_and_dark_runs() {
        let svg = svg(b"hello", "A <test>").expect("fits");
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains("<title id=\"qr-title\">A &lt;test&gt;</title>"));
        // Version 1 is 21 modules wide; with the quiet zone 29.
        assert!(svg.contains("viewBox=\"0 0 29 29\""));
        // The finder pattern's top row: 7 dark modules from the quiet zone's corner.
        assert!(svg.contains("M4 4h7v1h-7z"));
    }

    #[test]
    fn too_much_data_is_an_error() {
        assert!(svg(&vec![b'x'; 5000], "t").is_err());
    }
}
