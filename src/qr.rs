//! QR codes of links (one-time login links), so a phone signs in by scanning rather than
//! typing: as an SVG image for the admin page, and as text for `mychat admin login-link`.
//! The encoding is `qrcodegen`'s (Nayuki's); this module only draws the modules.

use qrcodegen::{QrCode, QrCodeEcc};

/// Light modules around the code, as the standard asks (four).
const QUIET: i32 = 4;

fn encode(text: &str) -> Option<QrCode> {
    // Medium error correction: still reads off a smudged phone screen, and a ~100-byte link
    // stays a small code.
    QrCode::encode_text(text, QrCodeEcc::Medium).ok()
}

/// The code as an SVG document: one path of dark squares on a white square.
pub fn svg(text: &str) -> Option<String> {
    let code = encode(text)?;
    let size = code.size();
    let side = size + 2 * QUIET;
    let mut path = String::with_capacity((size * size) as usize * 4);
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The SVG as a `data:` URL, for an `<img>` (the Content-Security-Policy allows `data:`
/// images, and nothing is parsed as markup in the page).
pub fn data_url(text: &str) -> Option<String> {
    let svg = svg(text)?;
    let mut url = String::from("data:image/svg+xml,");
    for b in svg.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'=' | b'/' | b':' | b',' => {
                url.push(b as char)
            }
            _ => url.push_str(&format!("%{b:02X}")),
        }
    }
    Some(url)
}

/// The code drawn with block characters, two rows of modules per line, dark on a light
/// terminal background and light on a dark one alike (the quiet zone is drawn too).
pub fn terminal(text: &str) -> Option<String> {
    let code = encode(text)?;
    let size = code.size();
    // Drawn inverted (a "full block" is a light module), which reads on dark terminals;
    // scanners read inverted codes as well.
    let light = |x: i32, y: i32| !(0..size).contains(&x) || !(0..size).contains(&y) || !code.get_module(x, y);
    let mut out = String::new();
    let mut y = -QUIET;
    while y < size + QUIET {
        for x in -QUIET..size + QUIET {
            out.push(match (light(x, y), light(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_link_as_svg_and_text() {
        let link = "https://chat.example.org/login-link?token=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let image = svg(link).unwrap();
        assert!(image.starts_with("<svg") && image.ends_with("</svg>"), "{image}");
        let code = encode(link).unwrap();
        let dark = (0..code.size())
            .flat_map(|y| (0..code.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| code.get_module(x, y))
            .count();
        assert_eq!(image.matches("h1v1h-1z").count(), dark, "one square per dark module");
        assert!(data_url(link).unwrap().starts_with("data:image/svg+xml,%3Csvg"));
        let text = terminal(link).unwrap();
        assert_eq!(text.lines().count() as i32, (code.size() + 2 * QUIET + 1) / 2);
    }
}
