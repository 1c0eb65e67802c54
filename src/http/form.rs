//! `application/x-www-form-urlencoded` (form bodies and query strings) and cookies.

/// Decodes `a=1&b=x+y%21` into pairs. Invalid escapes are kept literally; invalid UTF-8 is
/// replaced, so a value is always a string.
pub fn parse(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let key = decode(parts.next().unwrap_or_default());
            let value = decode(parts.next().unwrap_or_default());
            (key, value)
        })
        .collect()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => match (raw.get(i + 1).copied().and_then(hex), raw.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        let pairs = parse(b"username=al+ice&password=p%40ss%2&x=%zz&empty=&=v");
        assert_eq!(pairs[0], ("username".into(), "al ice".into()));
        assert_eq!(pairs[1], ("password".into(), "p@ss%2".into()));
        assert_eq!(pairs[2], ("x".into(), "%zz".into()));
        assert_eq!(pairs[3], ("empty".into(), "".into()));
        assert_eq!(pairs[4], ("".into(), "v".into()));
        assert_eq!(parse(b"n=%D0%AF")[0].1, "Я");
        assert_eq!(parse(b"n=%FF")[0].1, "\u{FFFD}");
        assert_eq!(parse(b"n=%")[0].1, "%");
    }

    #[test]
    fn finds_cookies() {
        let h = "a=1; mychat_session=abc; user_id=u";
        assert_eq!(cookie(h, "mychat_session"), Some("abc"));
        assert_eq!(cookie(h, "nope"), None);
    }
}
