//! Just enough of a Rust lexer to see paths: identifiers, `::` and the punctuation that
//! delimits items and use trees. Comments, string and character literals, numbers and
//! lifetimes are dropped, so a path written in a doc comment or a string is never an import.

/// One token the import parser looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// An identifier or keyword (`r#type` is `type`).
    Ident(String),
    /// `::`.
    PathSep,
    /// Any other punctuation character.
    Punct(char),
}

/// The tokens of `source`.
pub(super) fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            _ if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => i = skip_block_comment(&chars, i),
            '"' => i = skip_string(&chars, i + 1),
            '\'' => i = skip_quote(&chars, i),
            ':' if next == Some(':') => {
                out.push(Token::PathSep);
                i += 2;
            }
            _ if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            _ if c.is_alphabetic() || c == '_' => {
                // String prefixes: r"..", r#".."#, b"..", br"..", c"..", b'x'.
                if let Some(end) = prefixed_literal(&chars, i) {
                    i = end;
                    continue;
                }
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let mut word: String = chars[start..i].iter().collect();
                if word == "r" && chars.get(i) == Some(&'#') {
                    // A raw identifier.
                    i += 1;
                    let start = i;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                    word = chars[start..i].iter().collect();
                }
                out.push(Token::Ident(word));
            }
            _ => {
                out.push(Token::Punct(c));
                i += 1;
            }
        }
    }
    out
}

/// Past the end of a (nestable) block comment starting at `i`.
fn skip_block_comment(chars: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// Past the closing quote of a string whose body starts at `i`.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Past a character literal or a lifetime starting at the quote `i`.
fn skip_quote(chars: &[char], i: usize) -> usize {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('\\'), _) => {
            let mut j = i + 3;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            j + 1
        }
        (Some(_), Some('\'')) => i + 3,
        _ => {
            // A lifetime or label: the quote and its identifier.
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            j
        }
    }
}

/// When a string or byte literal with a prefix starts at `i`, the index past its end.
fn prefixed_literal(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    while j < chars.len() && j - i < 2 && matches!(chars[j], 'r' | 'b' | 'c') {
        j += 1;
    }
    if j == i {
        return None;
    }
    let prefix: String = chars[i..j].iter().collect();
    match chars.get(j) {
        Some('\'') if prefix == "b" => Some(skip_quote(chars, j)),
        Some('"') if !prefix.contains('r') => Some(skip_string(chars, j + 1)),
        Some('"' | '#') if prefix.ends_with('r') => {
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                return None;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    return Some(j + 1 + hashes);
                }
                j += 1;
            }
            Some(j)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idents(source: &str) -> Vec<String> {
        tokens(source)
            .into_iter()
            .filter_map(|t| match t {
                Token::Ident(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn comments_literals_and_lifetimes_are_dropped() {
        let source = r###"
            // use crate::a;
            /* crate::b /* nested */ crate::c */
            let s = "crate::d \" crate::e";
            let r = r#"crate::f "quoted""#;
            let b = b'x'; let c = '\''; let q = '"';
            fn f<'a>(x: &'a str) -> r#type { crate::g }
        "###;
        assert_eq!(
            idents(source),
            [
                "let", "s", "let", "r", "let", "b", "let", "c", "let", "q", "fn", "f", "x", "str",
                "type", "crate", "g"
            ]
        );
    }
}
